"""A small jq: the subset real flows use in Parse JSON / JSON Operations, evaluated over Python
values (no jq binary, nothing executed).

Supported: `.`, `.key`, `."key"`, `.[n]`, `.[a:b]`, `.[]`, `?` after any of them, chains
(`.a.b[0]`), pipes `|`, commas `,`, parentheses, object construction (`{a, b: .x, "c": .y}`),
array construction (`[ ... ]`), literals (strings, numbers, true/false/null), and the filters
`length`, `keys`, `values`, `select(f)`, `map(f)`, `not`, `tostring`, `tonumber`, `first`,
`last`, `add`, `type`, with `==`, `!=`, `<`, `<=`, `>`, `>=`, `and`, `or`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

MAX_PROGRAM_CHARS = 2000
Filter = Callable[[Any], Iterator[Any]]


class JqError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>==|!=|<=|>=|\.\.|[.\[\]{}()|,:<>?])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokens(program: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    program = program.strip()
    while pos < len(program):
        match = _TOKEN.match(program, pos)
        if not match or match.end() == pos:
            raise JqError(f"jq: cannot parse the query near {program[pos:pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind)  # type: ignore[arg-type]
        out.append((kind, json.loads(text) if kind in ("str", "num") else text))  # type: ignore[arg-type]
    return out


class _Parser:
    def __init__(self, program: str) -> None:
        if len(program) > MAX_PROGRAM_CHARS:
            raise JqError("jq: the query is too long")
        self.tokens = _tokens(program)
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        return value is None or (self.tokens[self.i][0] in ("op", "name") and self.tokens[self.i][1] == value)

    def take(self, value: str | None = None) -> tuple[str, Any]:
        if self.i >= len(self.tokens) or (value is not None and not self.peek(value)):
            raise JqError(f"jq: expected {value or 'more input'}")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Filter:
        f = self.pipe()
        if self.i != len(self.tokens):
            raise JqError(f"jq: unexpected {self.tokens[self.i][1]!r}")
        return f

    def pipe(self) -> Filter:
        left = self.comma()
        while self.peek("|"):
            self.take()
            right = self.comma()
            left = (lambda a, b: lambda v: (y for x in a(v) for y in b(x)))(left, right)
        return left

    def comma(self) -> Filter:
        left = self.boolean()
        while self.peek(","):
            self.take()
            right = self.boolean()
            left = (lambda a, b: lambda v: (x for f in (a, b) for x in f(v)))(left, right)
        return left

    def boolean(self) -> Filter:
        left = self.compare()
        while self.peek("and") or self.peek("or"):
            op = self.take()[1]
            right = self.compare()
            if op == "and":
                left = (lambda a, b: lambda v: (_truthy(x) and _truthy(y) for x in a(v) for y in b(v)))(left, right)
            else:
                left = (lambda a, b: lambda v: (_truthy(x) or _truthy(y) for x in a(v) for y in b(v)))(left, right)
        return left

    def compare(self) -> Filter:
        left = self.postfix()
        ops = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
               ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
        for symbol, fn in ops.items():
            if self.peek(symbol):
                self.take()
                right = self.postfix()
                return (lambda a, b, fn: lambda v: (_cmp(fn, x, y) for x in a(v) for y in b(v)))(left, right, fn)
        return left

    def postfix(self) -> Filter:
        f = self.primary()
        while True:
            if self.peek("["):
                f = self._chain(f, self.bracket())
            elif self.peek(".") and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1][0] in ("name", "str"):
                self.take()
                f = self._chain(f, _field(self.take()[1]))
            elif self.peek("?"):
                self.take()
                f = (lambda g: lambda v: _quiet(g, v))(f)
            else:
                return f

    @staticmethod
    def _chain(a: Filter, b: Filter) -> Filter:
        return lambda v: (y for x in a(v) for y in b(x))

    def bracket(self) -> Filter:
        self.take("[")
        if self.peek("]"):
            self.take()
            return _iterate
        start = None if self.peek(":") else self.pipe()
        if self.peek(":"):
            self.take()
            end = None if self.peek("]") else self.pipe()
            self.take("]")
            return lambda v: (_slice(v, s, e) for s in (start(v) if start else [None]) for e in (end(v) if end else [None]))
        self.take("]")
        assert start is not None
        return lambda v: (_index(v, k) for k in start(v))

    def primary(self) -> Filter:
        kind, value = self.take()
        if kind == "str" or kind == "num":
            return lambda v, value=value: iter([value])
        if value == ".":
            if self.i < len(self.tokens) and self.tokens[self.i][0] in ("name", "str") and not self.peek("and") and not self.peek("or"):
                return _field(self.take()[1])
            return lambda v: iter([v])
        if value == "..":
            return _recurse
        if value == "(":
            f = self.pipe()
            self.take(")")
            return f
        if value == "[":
            if self.peek("]"):
                self.take()
                return lambda v: iter([[]])
            f = self.pipe()
            self.take("]")
            return lambda v: iter([list(f(v))])
        if value == "{":
            return self.object()
        if kind == "name":
            return self.builtin(value)
        raise JqError(f"jq: unexpected {value!r}")

    def object(self) -> Filter:
        entries: list[tuple[Filter, Filter]] = []
        while not self.peek("}"):
            kind, key = self.take()
            if kind not in ("name", "str"):
                raise JqError("jq: object keys must be names or strings")
            if self.peek(":"):
                self.take()
                value_f = self.boolean()
            else:
                value_f = _field(key)
            entries.append(((lambda k: lambda v: iter([k]))(key), value_f))
            if not self.peek("}"):
                self.take(",")
        self.take("}")

        def build(v: Any) -> Iterator[Any]:
            results: list[dict[str, Any]] = [{}]
            for key_f, value_f in entries:
                results = [{**r, k: x} for r in results for k in key_f(v) for x in value_f(v)]
            return iter(results)

        return build

    def builtin(self, name: str) -> Filter:
        if name in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[name]
            return lambda v: iter([constant])
        if name in ("select", "map"):
            self.take("(")
            inner = self.pipe()
            self.take(")")
            if name == "select":
                return lambda v: iter([v] if any(_truthy(x) for x in inner(v)) else [])
            return lambda v: iter([[y for x in _iterate(v) for y in inner(x)]])
        simple: dict[str, Callable[[Any], Any]] = {
            "length": _length, "keys": lambda v: sorted(v) if isinstance(v, dict) else list(range(len(v))),
            "values": lambda v: list(v.values()) if isinstance(v, dict) else list(v), "not": lambda v: not _truthy(v),
            "tostring": lambda v: v if isinstance(v, str) else json.dumps(v), "tonumber": _tonumber,
            "first": lambda v: v[0], "last": lambda v: v[-1], "add": _add, "type": _type,
            "ascii_downcase": lambda v: v.lower(), "ascii_upcase": lambda v: v.upper(),
        }
        if name not in simple:
            raise JqError(f"jq: unsupported function {name!r}")
        fn = simple[name]

        def run(v: Any) -> Iterator[Any]:
            try:
                yield fn(v)
            except (TypeError, IndexError, KeyError, AttributeError, ValueError) as exc:
                raise JqError(f"jq: {name} cannot be applied to {_type(v)}") from exc

        return run


def _truthy(v: Any) -> bool:
    return v is not None and v is not False


def _cmp(fn: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    try:
        return fn(a, b)
    except TypeError:
        return False


def _field(name: str) -> Filter:
    def get(v: Any) -> Iterator[Any]:
        if v is None:
            yield None
        elif isinstance(v, dict):
            yield v.get(name)
        else:
            raise JqError(f"jq: cannot index {_type(v)} with \"{name}\"")

    return get


def _index(v: Any, key: Any) -> Any:
    if v is None:
        return None
    if isinstance(key, str):
        if not isinstance(v, dict):
            raise JqError(f"jq: cannot index {_type(v)} with \"{key}\"")
        return v.get(key)
    if isinstance(v, list) and isinstance(key, (int, float)):
        index = int(key)
        return v[index] if -len(v) <= index < len(v) else None
    raise JqError(f"jq: cannot index {_type(v)} with {_type(key)}")


def _slice(v: Any, start: Any, end: Any) -> Any:
    if v is None:
        return None
    if not isinstance(v, (list, str)):
        raise JqError(f"jq: cannot slice {_type(v)}")
    return v[None if start is None else int(start): None if end is None else int(end)]


def _iterate(v: Any) -> Iterator[Any]:
    if isinstance(v, dict):
        return iter(list(v.values()))
    if isinstance(v, list):
        return iter(list(v))
    raise JqError(f"jq: cannot iterate over {_type(v)}")


def _recurse(v: Any) -> Iterator[Any]:
    yield v
    if isinstance(v, (dict, list)):
        for child in (v.values() if isinstance(v, dict) else v):
            yield from _recurse(child)


def _quiet(f: Filter, v: Any) -> Iterator[Any]:
    try:
        yield from list(f(v))
    except JqError:
        return


def _length(v: Any) -> Any:
    if v is None:
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return abs(v)
    return len(v)


def _tonumber(v: Any) -> Any:
    if isinstance(v, (int, float)):
        return v
    number = float(v)
    return int(number) if number.is_integer() and "." not in str(v) else number


def _add(v: Any) -> Any:
    items = list(v.values()) if isinstance(v, dict) else list(v)
    items = [x for x in items if x is not None]
    if not items:
        return None
    total = items[0]
    for item in items[1:]:
        total = {**total, **item} if isinstance(total, dict) else total + item
    return total


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def compile_query(program: str) -> Filter:
    return _Parser(program).parse()


def run_query(program: str, value: Any) -> list[Any]:
    """Every output of `program` over `value` (like `jq.compile(p).input_value(v).all()`)."""
    try:
        return list(compile_query(program)(value))
    except RecursionError as exc:
        raise JqError("jq: the query is nested too deeply") from exc
