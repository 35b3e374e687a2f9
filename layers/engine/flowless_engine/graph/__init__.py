"""Langflow JSON → Graph: loading, validation and layered ordering."""
