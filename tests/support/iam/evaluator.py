"""A small IAM policy evaluator for identity-based policies, written from AWS's documented
evaluation logic (IAM User Guide, "Policy evaluation logic"):

1. an explicit Deny in any matching statement wins;
2. else an Allow in any matching statement allows;
3. else the request is implicitly denied.

A statement matches a request when its Action (or NotAction) matches the action, its Resource (or
NotResource) matches the resource ARN, and every condition holds. Actions compare without regard
to case, resources with it; both take the `*` and `?` wildcards (a `*` in an ARN spans `:` and `/`).
Conditions: the String*, Arn*, Bool, Null and Numeric* operators, their `...IfExists` forms and the
`ForAllValues:` / `ForAnyValue:` set qualifiers (e.g. `dynamodb:LeadingKeys`); keys of one block
are ANDed, values of one key ORed, a missing key fails the block unless IfExists / Null / ForAllValues.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tests.support.iam.stack import Statement

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


@dataclass(frozen=True)
class Request:
    """One authorisation IAM makes for a call: action, resource ARN and the request's context keys."""

    action: str
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def keys(self) -> dict[str, tuple[str, ...]]:
        return dict(self.context)

    def __str__(self) -> str:
        extra = "".join(f" [{k}={','.join(v)}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{extra}"


@dataclass
class Decision:
    request: Request
    outcome: str
    allowed_by: list[Statement] = field(default_factory=list)
    denied_by: list[Statement] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOW


@lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_pattern(pattern, ignore_case).match(value))


def _action_matches(statement: Statement, action: str) -> bool:
    if statement.actions:
        return any(wildcard_match(a, action, ignore_case=True) for a in statement.actions)
    return not any(wildcard_match(a, action, ignore_case=True) for a in statement.not_actions)


def _resource_matches(statement: Statement, resource: str) -> bool:
    if statement.resources:
        return any(wildcard_match(r, resource) for r in statement.resources)
    return not any(wildcard_match(r, resource) for r in statement.not_resources)


def _compare(base: str, wanted: str, actual: str) -> bool:
    if base in {"StringEquals", "ArnEquals"}:
        return actual == wanted if base == "StringEquals" else wildcard_match(wanted, actual)
    if base in {"StringLike", "ArnLike"}:
        return wildcard_match(wanted, actual)
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == wanted.lower()
    if base == "Bool":
        return actual.lower() == str(wanted).lower()
    if base.startswith("Numeric"):
        a, w = float(actual), float(wanted)
        return {"NumericEquals": a == w, "NumericLessThan": a < w, "NumericLessThanEquals": a <= w,
                "NumericGreaterThan": a > w, "NumericGreaterThanEquals": a >= w}[base]
    raise ValueError(f"condition operator {base} is not supported by tests/support/iam/evaluator.py")


NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals",
           "ArnNotLike": "ArnLike", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase", "NumericNotEquals": "NumericEquals"}


def _condition_holds(operator: str, key: str, wanted: Any, keys: Mapping[str, tuple[str, ...]]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    wanted_values = [str(w).lower() if isinstance(w, bool) else str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
    present = key in keys
    actual = keys.get(key, ())
    if op == "Null":
        return any((not present) == (w.lower() == "true") for w in wanted_values)
    negated = op in NEGATED
    base = NEGATED.get(op, op)

    def one(value: str) -> bool:
        hit = any(_compare(base, w, value) for w in wanted_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)  # an empty or missing set holds
    if qualifier == "ForAnyValue":
        return any(one(v) for v in actual)
    if not present:
        return if_exists or negated
    return one(actual[0]) if len(actual) == 1 else any(one(v) for v in actual)


def _conditions_hold(statement: Statement, keys: Mapping[str, tuple[str, ...]]) -> bool:
    return all(
        _condition_holds(operator, key, wanted, keys)
        for operator, block in statement.conditions.items()
        for key, wanted in block.items()
    )


def matches(statement: Statement, request: Request) -> bool:
    return (_action_matches(statement, request.action) and _resource_matches(statement, request.resource)
            and _conditions_hold(statement, request.keys))


def evaluate(statements: Iterable[Statement], request: Request) -> Decision:
    allowed, denied = [], []
    for statement in statements:
        if matches(statement, request):
            (denied if statement.effect == "Deny" else allowed).append(statement)
    outcome = EXPLICIT_DENY if denied else ALLOW if allowed else IMPLICIT_DENY
    return Decision(request, outcome, allowed, denied)
