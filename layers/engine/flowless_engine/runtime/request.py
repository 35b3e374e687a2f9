"""What a caller asks of one run (the fields of Langflow's `/run` body, plus advanced options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT_TYPES = ("chat", "text", "any")
OUTPUT_TYPES = ("chat", "text", "any", "debug")


@dataclass
class RunRequest:
    input_value: str | None = None
    input_type: str = "chat"
    output_type: str = "chat"
    output_component: str = ""
    tweaks: dict[str, Any] | None = None
    session_id: str | None = None
    stream: bool = False
    user_id: str | None = None
    # Advanced API: restrict injection to these input components, select these outputs.
    input_components: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    # Build API: run only from / up to a vertex.
    start_component_id: str | None = None
    stop_component_id: str | None = None
    files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.input_type not in INPUT_TYPES:
            self.input_type = "chat"
        if self.output_type not in OUTPUT_TYPES:
            self.output_type = "chat"
