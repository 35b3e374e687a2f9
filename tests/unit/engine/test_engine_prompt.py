"""Prompt / Prompt Template: {var} and {{var}} placeholders, escapes, no attribute access."""

from __future__ import annotations

import pytest

from flowless_engine.components.prompts import render_template, template_variables
from tests.support.engine_kit import component_node, edge, field, flow, run


def prompt_node(template: str, *, double: bool = False, **variables: str) -> dict:
    node = component_node("Prompt-1", "Prompt", template=template, use_double_brackets=double)
    for name, value in variables.items():
        node["data"]["node"]["template"][name] = field(name, value, input_types=["Message"])
    node["data"]["node"]["custom_fields"] = {"template": list(variables)}
    return node


async def render(template: str, *, double: bool = False, **variables: str) -> str:
    ran = await run(flow([prompt_node(template, double=double, **variables)]), output_type="debug")
    return ran.vertex("Prompt-1").values["prompt"].text


@pytest.mark.parametrize(
    "template, expected",
    [
        ("Hello {name}!", "Hello Ada!"),
        ("{name} and {name}", "Ada and Ada"),
        ("Literal {{name}} braces", "Literal {name} braces"),
        ("JSON: {{\"a\": 1}}", 'JSON: {"a": 1}'),
        ("{{{name}}}", "{Ada}"),
        ("No attribute access: {name.__class__}", "No attribute access: {name.__class__}"),
        ("No indexing: {name[0]}", "No indexing: {name[0]}"),
        ("No conversion: {name!r} {name:>10}", "No conversion: {name!r} {name:>10}"),
        ("Positional {0} and empty {}", "Positional {0} and empty {}"),
        ("Unclosed {name", "Unclosed {name"),
    ],
)
async def test_single_brackets(template: str, expected: str) -> None:
    assert await render(template, name="Ada") == expected


@pytest.mark.parametrize(
    "template, expected",
    [
        ("Hello {{name}}!", "Hello Ada!"),
        ("Hello {{ name }}!", "Hello Ada!"),
        ("Single {name} stays", "Single {name} stays"),
        ('{"json": {{name}}}', '{"json": Ada}'),
        ("{{name.__class__}}", "{{name.__class__}}"),
    ],
)
async def test_double_brackets(template: str, expected: str) -> None:
    assert await render(template, double=True, name="Ada") == expected


async def test_variables_come_from_edges() -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"), prompt_node("Q: {question} / C: {context}", question="", context="stored context")]
    ran = await run(flow(nodes, [edge("ChatInput-1", "message", "Prompt-1", "question")]), "why?", output_type="debug")
    prompt = ran.vertex("Prompt-1").values["prompt"]
    assert prompt.text == "Q: why? / C: stored context"
    assert prompt.properties["source"] == {"id": "Prompt-1", "display_name": "Prompt Template", "source": "Prompt Template"}
    assert prompt.session_id == "flow-1"


async def test_a_streamed_variable_is_resolved_first() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("LanguageModelComponent-1", "LanguageModelComponent"),
        prompt_node("Summary: {summary}", summary=""),
    ]
    edges = [edge("ChatInput-1", "message", "LanguageModelComponent-1", "input_value"), edge("LanguageModelComponent-1", "text_output", "Prompt-1", "summary")]
    ran = await run(flow(nodes, edges), "hi", stream=True, output_type="debug")
    assert ran.vertex("Prompt-1").values["prompt"].text == "Summary: Echo: hi"


async def test_reserved_field_names_are_not_variables() -> None:
    assert await render("{template} {use_double_brackets}") == "{template} {use_double_brackets}"


def test_template_variables() -> None:
    assert template_variables("{a} {b} {a} {{c}} {d.e}") == ["a", "b"]
    assert template_variables("{{a}} {b} {{ c }}", double_brackets=True) == ["a", "c"]


def test_render_template_leaves_unknown_names() -> None:
    assert render_template("{a} {b}", {"a": "1"}) == "1 {b}"
    assert render_template("{{a}} {{b}}", {"a": "1"}, double_brackets=True) == "1 {{b}}"
