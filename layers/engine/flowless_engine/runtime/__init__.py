"""Running a graph: scheduling, context, tweaks, events and results."""
