"""If-Else: the condition, the message each branch carries, and the branch it deactivates."""

from __future__ import annotations

import time
from typing import Any

import pytest

from flowless_engine.components.logic import ConditionalRouterComponent
from flowless_engine.graph.model import Vertex
from flowless_engine.runtime.context import RunContext
from flowless_engine.schema import Message


def make(**params: Any) -> ConditionalRouterComponent:
    values = {"operator": "equals", "case_sensitive": True, **params}
    vertex = Vertex(
        id="ConditionalRouter-t1",
        type="ConditionalRouter",
        display_name="If-Else",
        fields={name: {"value": value} for name, value in values.items()},
        outputs=[o.to_template() for o in ConditionalRouterComponent.outputs],
    )
    return ConditionalRouterComponent(vertex, values, RunContext(flow_id="f", session_id="s"))


async def test_true_branch_carries_the_message_and_stops_false() -> None:
    router = make(input_text=Message(text="Hello"), match_text="hello", case_sensitive=False, true_case_message=Message(text="yes"))
    result = await router.true_response()
    assert result.text == "yes"
    assert router.inactive_outputs == {"false_result"}


async def test_false_branch_when_condition_fails() -> None:
    router = make(input_text="Hello", match_text="hello", case_sensitive=True, false_case_message="no")
    result = await router.false_response()
    assert result.text == "no"
    assert router.inactive_outputs == {"true_result"}


async def test_asking_the_untaken_branch_stops_it_and_returns_empty() -> None:
    router = make(input_text="abc", match_text="zzz")
    result = await router.true_response()
    assert result.text == ""
    assert router.inactive_outputs == {"true_result"}


async def test_unset_case_message_passes_the_input_through() -> None:
    router = make(input_text=Message(text="route me"), operator="contains", match_text="route")
    assert (await router.true_response()).text == "route me"


@pytest.mark.parametrize(
    ("operator", "text", "match", "expected"),
    [
        ("equals", "a", "a", True),
        ("not equals", "a", "b", True),
        ("contains", "hello world", "lo w", True),
        ("starts with", "hello", "he", True),
        ("ends with", "hello", "lo", True),
        ("ends with", "hello", "he", False),
        ("regex", "order-123", r"order-\d+", True),
        ("regex", "Order-123", r"order-\d+", False),  # regex is always case-sensitive
        ("regex", "x", "(", False),  # invalid pattern
        ("greater than", "10", "9.5", True),
        ("less than or equal", "3", "3", True),
        ("less than", "abc", "3", False),  # not numbers
    ],
)
async def test_operators(operator: str, text: str, match: str, expected: bool) -> None:
    router = make(input_text=text, match_text=match, operator=operator, case_sensitive=False)
    await router.true_response()
    assert router.inactive_outputs == ({"false_result"} if expected else {"true_result"})


async def test_catastrophic_regex_is_refused_quickly() -> None:
    router = make(input_text="a" * 40 + "!", match_text="(a+)+$", operator="regex")
    started = time.monotonic()
    await router.true_response()
    assert time.monotonic() - started < 0.5
    assert router.inactive_outputs == {"true_result"}


async def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(ValueError, match="Unknown operator"):
        await make(input_text="a", match_text="a", operator="sounds like").true_response()
