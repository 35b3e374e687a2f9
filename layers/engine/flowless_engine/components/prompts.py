"""Prompt / Prompt Template: `{var}` (or `{{var}}`) placeholders filled from fields or edges.

Substitution is plain text replacement of whole placeholders: no attribute access, indexing or
format specs, so a template can never reach into Python objects.
"""

from __future__ import annotations

import re

from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.schema import Message

_SINGLE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_\-]*)\}")
_DOUBLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*\}\}")
_RESERVED = {"template", "tool_placeholder", "use_double_brackets"}


def template_variables(template: str, double_brackets: bool = False) -> list[str]:
    if double_brackets:
        names = _DOUBLE.findall(template)
    else:
        names = [m.group(1) for m in _SINGLE.finditer(template) if m.group(1)]
    return list(dict.fromkeys(names))


def render_template(template: str, values: dict[str, str], double_brackets: bool = False) -> str:
    if double_brackets:
        return _DOUBLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)

    def replace(match: "re.Match[str]") -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values.get(match.group(1), token)

    return _SINGLE.sub(replace, template)


class PromptComponent(Component):
    type_name = "Prompt"
    aliases = ("Prompt Template",)
    display_name = "Prompt Template"
    description = "Create a prompt template with dynamic variables."
    category = "models_and_agents"
    icon = "braces"
    inputs = (
        Input("template", "Template", "prompt", ""),
        Input("use_double_brackets", "Use Double Brackets", "bool", False, advanced=True),
        Input("tool_placeholder", "Tool Placeholder", value="", advanced=True, input_types=("Message",)),
    )
    outputs = (Output("prompt", "build_prompt", ("Message",), "Prompt"),)

    async def build_prompt(self) -> Message:
        template = to_text(self.param("template", ""))
        double = to_bool(self.param("use_double_brackets", False))
        values: dict[str, str] = {}
        for name in template_variables(template, double):
            if name in _RESERVED:
                continue
            value = self.params.get(name)
            if isinstance(value, Message):
                await value.resolve()
            values[name] = to_text(value)
        return Message(
            text=render_template(template, values, double),
            session_id=self.ctx.session_id,
            flow_id=self.ctx.flow_id,
            properties={"source": {"id": self.id, "display_name": self.name, "source": self.name}},
        )
