"""Calculator: arithmetic evaluated by walking the parsed syntax tree.

Only number literals, + - * / // % **, unary plus/minus and parentheses are accepted; any
name, call, attribute, subscript or other construct is refused before anything is computed.
Arithmetic is done in floats (as Langflow does), so results stay small and fast.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_text
from flowless_engine.schema import Data

MAX_EXPRESSION_CHARS = 1000
# Float powers cost O(1) and overflow loudly; the explicit bound keeps `**` cheap even if the
# arithmetic ever moves to exact integers (where 9**9**9 would run for minutes).
MAX_EXPONENT = 10_000

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class ExpressionError(ValueError):
    """The expression is not plain arithmetic, or cannot be computed."""


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression. Raises ExpressionError or ZeroDivisionError."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid syntax ({exc.msg})") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError("expression cannot be parsed") from exc
    try:
        result = _eval(tree.body)
    except OverflowError as exc:
        raise ExpressionError("result is too large") from exc
    except RecursionError as exc:
        raise ExpressionError("expression is nested too deeply") from exc
    if isinstance(result, complex) or math.isnan(result):
        raise ExpressionError("result is not a real number")
    if math.isinf(result):
        raise ExpressionError("result is too large")
    return result


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        raise ExpressionError(f"unsupported constant {node.value!r}")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {right:g} is larger than {MAX_EXPONENT}")
        return _BINARY[type(node.op)](left, right)
    what = type(node.op).__name__ if isinstance(node, (ast.BinOp, ast.UnaryOp)) else type(node).__name__
    raise ExpressionError(f"unsupported operation or expression type: {what}")


def format_number(value: float) -> str:
    """Langflow's rendering: six decimals, trailing zeros and dot removed ("14", "0.333333")."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class CalculatorComponent(Component):
    type_name = "CalculatorComponent"
    display_name = "Calculator"
    description = "Perform basic arithmetic operations on a given expression."
    category = "tools"
    icon = "calculator"
    inputs = (
        Input(
            "expression",
            "Expression",
            "str",
            "",
            input_types=("Message",),
            info="The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').",
            input_kind="MessageTextInput",
        ),
    )
    outputs = (Output("result", "evaluate_expression", ("Data",), "JSON"),)

    async def evaluate_expression(self) -> Data:
        return self._calculate(to_text(self.param("expression", "")))

    def _calculate(self, expression: str) -> Data:
        """Errors become part of the result (never an exception), as in Langflow."""
        try:
            result = format_number(evaluate(expression))
        except ZeroDivisionError:
            data = Data(data={"error": "Error: Division by zero", "input": expression})
        except ExpressionError as exc:
            data = Data(data={"error": f"Invalid expression: {exc}", "input": expression})
        else:
            self.log(f"Calculation result: {result}")
            data = Data(data={"result": result})
        self.status = data.data.get("result") or data.data.get("error")
        return data

    def as_tools(self) -> list[Tool]:
        name, description = self.tool_metadata("evaluate_expression", self.description)

        async def run(arguments: dict[str, Any]) -> str:
            return json.dumps(self._calculate(str(arguments.get("expression", ""))).data)

        parameters = {
            "type": "object",
            "properties": {"expression": {"type": "string", "description": self.inputs[0].info}},
            "required": ["expression"],
        }
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]
