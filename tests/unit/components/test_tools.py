"""Calculator: arithmetic, precedence, errors in the result, refusal of anything but arithmetic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.components.tools import CalculatorComponent
from flowless_engine.graph.model import Vertex
from flowless_engine.runtime.context import RunContext


def make(**params: Any) -> CalculatorComponent:
    vertex = Vertex(
        id="CalculatorComponent-t1",
        type="CalculatorComponent",
        display_name="Calculator",
        fields={name: {"value": value} for name, value in params.items()},
        outputs=[o.to_template() for o in CalculatorComponent.outputs],
    )
    return CalculatorComponent(vertex, params, RunContext(flow_id="f", session_id="s"))


async def calc(expression: str) -> dict[str, Any]:
    return (await make(expression=expression).evaluate_expression()).data


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("4*4*(33/22)+12-20", "16"),
        ("2+3*4", "14"),
        ("(2+3)*4", "20"),
        ("2**3**2", "512"),
        ("-(2+3)**2", "-25"),
        ("-3 + +1", "-2"),
        ("7//2", "3"),
        ("7 % 3", "1"),
        ("1/3", "0.333333"),
        ("2**-1", "0.5"),
        ("1.5e3 / 2", "750"),
        ("0.1*0", "0"),
    ],
)
async def test_arithmetic(expression: str, expected: str) -> None:
    assert await calc(expression) == {"result": expected}


async def test_division_by_zero_is_reported_in_the_result() -> None:
    assert await calc("1/0") == {"error": "Error: Division by zero", "input": "1/0"}
    assert (await calc("5 % 0"))["error"] == "Error: Division by zero"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("2+", "invalid syntax"),
        ("", "invalid syntax"),
        ("__import__('os')", "Call"),
        ("(1).__class__", "Attribute"),
        ("x + 1", "Name"),
        ("[1, 2][0]", "Subscript"),
        ("'a' * 3", "unsupported constant"),
        ("True + 1", "unsupported constant"),
        ("1 if 1 else 2", "IfExp"),
        ("lambda: 1", "Lambda"),
        ("3 & 1", "BitAnd"),
        ("9**9**9", "exponent"),
        ("10.0**400", "too large"),
        ("(-8)**0.5", "not a real number"),
        ("1+" * 600 + "1", "longer than"),
    ],
)
async def test_refused_expressions(expression: str, reason: str) -> None:
    result = await calc(expression)
    assert set(result) == {"error", "input"}
    assert result["error"].startswith("Invalid expression: ")
    assert reason in result["error"]


async def test_as_tool_uses_the_saved_tool_name_and_returns_json() -> None:
    metadata = [{"name": "calculate", "description": "Do math", "status": True}]
    tools = make(expression="", tools_metadata=metadata).as_tools()
    assert [t.name for t in tools] == ["calculate"]
    assert tools[0].description == "Do math"
    assert tools[0].parameters["required"] == ["expression"]
    assert json.loads(await tools[0].run({"expression": "6*7"})) == {"result": "42"}
    assert "Division by zero" in await tools[0].run({"expression": "1/0"})


async def test_as_tool_default_name() -> None:
    (tool,) = make(expression="").as_tools()
    assert tool.name == "evaluate_expression"
    assert tool.source_id == "CalculatorComponent-t1"
