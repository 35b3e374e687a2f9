"""If-Else (ConditionalRouter): compare two texts and route a message to one of two outputs."""

from __future__ import annotations

import re

from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.schema import Message

# Python's `re` has no timeout: bound what a pattern may cost instead.
MAX_REGEX_PATTERN_CHARS = 500
MAX_REGEX_INPUT_CHARS = 20_000
# A quantified group that itself contains a quantifier, e.g. (a+)+ or (\w*\s?)* — the shape
# behind catastrophic backtracking.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]")

OPERATORS = (
    "equals",
    "not equals",
    "contains",
    "starts with",
    "ends with",
    "regex",
    "less than",
    "less than or equal",
    "greater than",
    "greater than or equal",
)
_NUMERIC = {
    "less than": lambda a, b: a < b,
    "less than or equal": lambda a, b: a <= b,
    "greater than": lambda a, b: a > b,
    "greater than or equal": lambda a, b: a >= b,
}


class ConditionalRouterComponent(Component):
    type_name = "ConditionalRouter"
    aliases = ("If-Else",)
    display_name = "If-Else"
    description = "Routes an input message to a corresponding output based on text comparison."
    category = "logic"
    icon = "split"
    inputs = (
        Input("input_text", "Text Input", "str", "", input_types=("Message",), required=True, input_kind="MessageTextInput"),
        Input("operator", "Operator", "str", "equals", options=OPERATORS, input_kind="DropdownInput"),
        Input("match_text", "Match Text", "str", "", input_types=("Message",), required=True, input_kind="MessageTextInput"),
        Input("case_sensitive", "Case Sensitive", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("true_case_message", "Case True", "str", "", input_types=("Message",), advanced=True, input_kind="MessageInput"),
        Input("false_case_message", "Case False", "str", "", input_types=("Message",), advanced=True, input_kind="MessageInput"),
        Input("max_iterations", "Max Iterations", "int", 10, advanced=True, input_kind="IntInput"),
        Input("default_route", "Default Route", "str", "false_result", options=("true_result", "false_result"), advanced=True, input_kind="DropdownInput"),
    )
    outputs = (
        Output("true_result", "true_response", ("Message",), "True"),
        Output("false_result", "false_response", ("Message",), "False"),
    )

    async def true_response(self) -> Message:
        return self._route(taken_when=True, case_field="true_case_message")

    async def false_response(self) -> Message:
        return self._route(taken_when=False, case_field="false_case_message")

    def _route(self, *, taken_when: bool, case_field: str) -> Message:
        """The output asked for either carries the message (and stops the other branch) or is
        itself stopped and returns an empty message — as Langflow's two methods do."""
        mine, other = ("true_result", "false_result") if taken_when else ("false_result", "true_result")
        if self._condition() == taken_when:
            self.stop(other)
            message = self._case_message(case_field)
            self.status = message
            return message
        self.stop(mine)
        return Message(text="")

    def _case_message(self, case_field: str) -> Message:
        """The branch's message; older exports name it `message`; unset, the input passes through."""
        for name in (case_field, "message", "input_text"):
            value = self.params.get(name)
            if isinstance(value, Message):
                return value
            if value not in (None, "", []):
                return Message(text=to_text(value))
        return Message(text="")

    def _condition(self) -> bool:
        text = to_text(self.param("input_text", ""))
        match = to_text(self.param("match_text", ""))
        op = to_text(self.param("operator", "equals")) or "equals"
        if op == "regex":  # always case-sensitive, as in Langflow
            return self._regex(match, text)
        if op in _NUMERIC:
            try:
                return _NUMERIC[op](float(text), float(match))
            except ValueError:
                return False
        if not to_bool(self.param("case_sensitive", True)):
            text, match = text.lower(), match.lower()
        checks = {
            "equals": lambda: text == match,
            "not equals": lambda: text != match,
            "contains": lambda: match in text,
            "starts with": lambda: text.startswith(match),
            "ends with": lambda: text.endswith(match),
        }
        if op not in checks:
            raise ValueError(f"Unknown operator '{op}' (expected one of: {', '.join(OPERATORS)})")
        return checks[op]()

    def _regex(self, pattern: str, text: str) -> bool:
        """`re.match` like Langflow; an invalid or refused pattern is a False condition."""
        if len(pattern) > MAX_REGEX_PATTERN_CHARS:
            self.log(f"Regex refused: pattern is longer than {MAX_REGEX_PATTERN_CHARS} characters")
            return False
        if _NESTED_QUANTIFIER.search(pattern):
            self.log("Regex refused: nested quantifiers such as (a+)+ can take exponential time")
            return False
        if len(text) > MAX_REGEX_INPUT_CHARS:
            self.log(f"Regex applied to the first {MAX_REGEX_INPUT_CHARS} characters of the input only")
            text = text[:MAX_REGEX_INPUT_CHARS]
        try:
            return re.match(pattern, text) is not None
        except re.error as exc:
            self.log(f"Invalid regex: {exc}")
            return False
