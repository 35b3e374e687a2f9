"""The rest of Langflow 1.13's processing nodes real flows use: JSON Cleaner, Filter Data, Table
(DataFrame) Operations, JSON (Data) Operations, Combine Data, Parse DataFrame, Parse JSON (a jq
subset), Regex Extractor, Pass, Current Date, and LangChain's character / recursive text splitters.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from flowless_engine.components.base import Component, Input, Output, format_data, to_bool, to_data_list, to_int, to_text
from flowless_engine.components.processing import CharacterSplitter, _unescape
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)
_JSON_IN = ("Data", "JSON")
_TABLE_IN = ("DataFrame", "Table")
MAX_REGEX_INPUT_CHARS = 1_000_000
MAX_PATTERN_CHARS = 1_000


def _selected(value: Any, default: str = "") -> str:
    """A SortableList / Tab / Dropdown value: [{"name": ...}] or a string."""
    if isinstance(value, list):
        value = value[0] if value else {}
    if isinstance(value, dict):
        return str(value.get("name") or default)
    return to_text(value) if value not in (None, "") else default


def repair_json(text: str) -> str:
    from json_repair import repair_json as repair  # lazily: only flows that clean JSON pay for it

    return str(repair(text))


def loads_lenient(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        try:
            return json.loads(repair_json(text))
        except ValueError as exc:
            raise ValueError(f"Invalid JSON: {exc}") from exc


# ---- JSON ---------------------------------------------------------------------------------


class JSONCleanerComponent(Component):
    type_name = "JSONCleaner"
    display_name = "JSON Cleaner"
    description = "Cleans the messy and sometimes incorrect JSON strings produced by LLMs so that they are fully compliant with the JSON spec."
    icon = "braces"
    inputs = (
        Input("json_str", "JSON String", "str", "", input_types=_MSG, required=True, info="The JSON string to be cleaned.", input_kind="MessageTextInput"),
        Input("remove_control_chars", "Remove Control Characters", "bool", False, info="Remove control characters from the JSON string.", input_kind="BoolInput"),
        Input("normalize_unicode", "Normalize Unicode", "bool", False, info="Normalize Unicode characters in the JSON string.", input_kind="BoolInput"),
        Input("validate_json", "Validate JSON", "bool", False, info="Validate the JSON string to ensure it is well-formed.", input_kind="BoolInput"),
    )
    outputs = (Output("output", "clean_json", ("Message",), "Cleaned JSON String"),)

    async def clean_json(self) -> Message:
        text = to_text(self.params.get("json_str"))
        start, end = text.find("{"), text.rfind("}")
        if start == -1 or end == -1:
            raise ValueError("Invalid JSON string: Missing '{' or '}'")
        text = text[start : end + 1]
        if to_bool(self.param("remove_control_chars", False)):
            text = re.sub(r"[\x00-\x1f\x7f]", "", text)
        if to_bool(self.param("normalize_unicode", False)):
            text = unicodedata.normalize("NFC", text)
        if to_bool(self.param("validate_json", False)):
            try:
                json.loads(text)
            except ValueError as exc:
                raise ValueError(f"Error cleaning JSON string: Invalid JSON string: {exc}") from exc
        result = repair_json(text)
        self.status = result
        return Message(text=result)


class FilterDataComponent(Component):
    type_name = "FilterData"
    display_name = "Filter Data"
    description = "Filters a Data object based on a list of keys."
    icon = "filter"
    inputs = (
        Input("data", "JSON", "other", "", input_types=_JSON_IN, info="Data object to filter.", input_kind="DataInput"),
        Input("filter_criteria", "Filter Criteria", "str", "", input_types=_MSG, is_list=True, info="List of keys to filter by.", input_kind="MessageTextInput"),
    )
    outputs = (Output("filtered_data", "filter_data", ("JSON",), "Filtered Data"),)

    async def filter_data(self) -> Data:
        keys = {to_text(k) for k in (self.params.get("filter_criteria") or []) if to_text(k)}
        value = self.params.get("data")
        data = value.data if isinstance(value, Data) else {}
        result = Data(data={k: v for k, v in data.items() if k in keys})
        self.status = result
        return result

    async def filter_data_text(self) -> Message:  # pre-1.1 `filtered_data_text`
        return Message(text=json.dumps((await self.filter_data()).data, ensure_ascii=False, default=str))


class ParseJSONDataComponent(Component):
    type_name = "ParseJSONData"
    display_name = "Parse JSON"
    description = "Convert and extract JSON fields."
    icon = "braces"
    inputs = (
        Input("input_value", "Input", "other", "", input_types=("Message", "Data", "JSON"), required=True,
              info="Data object to filter.", input_kind="HandleInput"),
        Input("query", "JQ Query", "str", "", input_types=_MSG, required=True, info="JQ Query to filter the data.", input_kind="MessageTextInput"),
    )
    outputs = (Output("filtered_data", "filter_data", ("JSON",), "Filtered Data"),)

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, Message):
            return value.plain_text
        if isinstance(value, Data):
            return json.dumps(value.data, default=str)
        return str(value)

    async def filter_data(self) -> list[Data]:
        from flowless_engine.components.jq import run_query

        value = self.params.get("input_value")
        if not value:
            return []
        subject = [loads_lenient(repair_json(self._text(v))) for v in value] if isinstance(value, list) else loads_lenient(repair_json(self._text(value)))
        results = run_query(to_text(self.param("query", ".")) or ".", subject)
        out = [Data(data=r) if isinstance(r, dict) else Data(data={"text": str(r)}) for r in results]
        self.status = out
        return out


class DataOperationsComponent(Component):
    type_name = "DataOperations"
    display_name = "JSON Operations"
    description = "Perform various operations on a JSON object."
    icon = "file-json"
    _OPS = ("Select Keys", "Literal Eval", "Combine", "Append or Update", "Remove Keys", "Rename Keys", "Path Selection", "JQ Expression")
    inputs = (
        Input("data", "JSON", "other", "", input_types=_JSON_IN, is_list=True, required=True, input_kind="DataInput"),
        Input("operations", "Operations", "sortableList", "", options=tuple({"name": n} for n in _OPS), input_kind="SortableListInput"),
        Input("select_keys_input", "Select Keys", "str", [], input_types=_MSG, is_list=True, input_kind="MessageTextInput"),
        Input("append_update_data", "Append or Update", "dict", {"key": "value"}, is_list=True, input_kind="DictInput"),
        Input("remove_keys_input", "Remove Keys", "str", [], input_types=_MSG, is_list=True, input_kind="MessageTextInput"),
        Input("rename_keys_input", "Rename Keys", "dict", {"old_key": "new_key"}, is_list=True, input_kind="DictInput"),
        Input("mapped_json_display", "JSON to Map", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("selected_key", "Select Path", "str", None, input_kind="DropdownInput"),
        Input("query", "JQ Expression", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
    )
    outputs = (Output("data_output", "as_data", ("JSON",), "JSON"),)

    def _items(self) -> list[Data]:
        return to_data_list(self.params.get("data"))

    def _one(self, op: str) -> dict[str, Any]:
        items = self._items()
        if len(items) != 1:
            raise ValueError(f"{op} operation requires a single JSON input, got {len(items)}")
        return dict(items[0].data)

    async def as_data(self) -> Data:
        from flowless_engine.components.search import dict_param

        op = _selected(self.params.get("operations"))
        if not op:
            return Data(data={})
        if op == "Select Keys":
            keys = [to_text(k) for k in self.params.get("select_keys_input") or []]
            data = self._one(op)
            missing = [k for k in keys if k not in data]
            if missing:
                raise ValueError(f"Keys not found in the JSON: {', '.join(missing)}")
            return Data(data={k: data[k] for k in keys})
        if op == "Remove Keys":
            drop = {to_text(k) for k in self.params.get("remove_keys_input") or []}
            return Data(data=_drop_keys(self._one(op), drop))
        if op == "Rename Keys":
            mapping = {str(k): str(v) for k, v in dict_param(self.params.get("rename_keys_input")).items()}
            return Data(data=_rename_keys(self._one(op), mapping))
        if op == "Append or Update":
            return Data(data={**self._one(op), **dict_param(self.params.get("append_update_data"))})
        if op == "Combine":
            combined: dict[str, Any] = {}
            for item in self._items():
                for key, value in item.data.items():
                    if key not in combined:
                        combined[key] = value
                    elif isinstance(combined[key], list):
                        combined[key] = combined[key] + (value if isinstance(value, list) else [value])
                    else:
                        combined[key] = [combined[key]] + (value if isinstance(value, list) else [value])
            return Data(data=combined)
        if op == "Literal Eval":
            return Data(data=_literal_values(self._one(op)))
        if op == "Path Selection":
            path = to_text(self.param("selected_key", ""))
            value: Any = self._one(op)
            for part in [p for p in re.split(r"\.|\[(\d+)\]", path.lstrip(".")) if p]:
                value = value[int(part)] if isinstance(value, list) and part.isdigit() else (value or {}).get(part) if isinstance(value, dict) else None
            return Data(data=value if isinstance(value, dict) else {"result": value})
        if op == "JQ Expression":
            from flowless_engine.components.jq import run_query

            results = run_query(to_text(self.param("query", ".")) or ".", self._one(op))
            result = results[0] if len(results) == 1 else results
            return Data(data=result if isinstance(result, dict) else {"result": result})
        raise ValueError(f"Unsupported operation: {op}")


def _drop_keys(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _drop_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_drop_keys(v, keys) for v in value]
    return value


def _rename_keys(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {mapping.get(k, k): _rename_keys(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_keys(v, mapping) for v in value]
    return value


def _literal_values(value: Any) -> Any:
    """Strings holding Python/JSON literals become values (ast.literal_eval: no code runs)."""
    import ast

    if isinstance(value, dict):
        return {k: _literal_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_values(v) for v in value]
    if isinstance(value, str) and len(value) < 100_000:
        try:
            return _literal_values(ast.literal_eval(value))
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return value
    return value


class MergeDataComponent(Component):
    type_name = "MergeDataComponent"
    display_name = "Combine Data"
    description = "Combines data using different operations"
    icon = "merge"
    inputs = (
        Input("data_inputs", "Data Inputs", "other", "", input_types=_JSON_IN, is_list=True, required=True, input_kind="DataInput"),
        Input("operation", "Operation Type", "str", "Concatenate", options=("Concatenate", "Append", "Merge", "Join"), input_kind="DropdownInput"),
    )
    outputs = (Output("combined_data", "combine_data", ("Table",), "Table"),)

    async def combine_data(self) -> DataFrame:
        items = to_data_list(self.params.get("data_inputs"))
        if len(items) < 2:
            return DataFrame()
        op = to_text(self.param("operation", "Concatenate"))
        if op == "Append":
            return DataFrame(rows=[dict(d.data) for d in items])
        combined: dict[str, Any] = {}
        for index, item in enumerate(items, 1):
            for key, value in item.data.items():
                if op == "Join":
                    combined[f"{key}_doc{index}" if index > 1 else key] = value
                elif key not in combined:
                    combined[key] = value
                elif op == "Merge" and isinstance(value, str):
                    combined[key] = (combined[key] if isinstance(combined[key], list) else [combined[key]]) + [value]
                elif op == "Concatenate" and isinstance(combined[key], str) and isinstance(value, str):
                    combined[key] = f"{combined[key]}\n{value}"
                else:
                    combined[key] = value
        return DataFrame(rows=[combined])


# ---- tables -----------------------------------------------------------------------------------


def _frames(value: Any) -> list[DataFrame]:
    items = value if isinstance(value, list) else [value]
    frames = []
    for item in items:
        if isinstance(item, DataFrame):
            frames.append(item)
        elif isinstance(item, Data):
            frames.append(DataFrame(rows=[dict(item.data)]))
        elif isinstance(item, dict):
            frames.append(DataFrame(rows=[item]))
    return frames


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class DataFrameOperationsComponent(Component):
    type_name = "DataFrameOperations"
    display_name = "Table Operations"
    description = "Perform various operations on a Table."
    icon = "table"
    _OPS = ("Add Column", "Concatenate", "Drop Column", "Filter", "Head", "Merge", "Rename Column", "Replace Value",
            "Select Columns", "Sort", "Tail", "Drop Duplicates")
    _FILTERS = ("equals", "not equals", "contains", "not contains", "starts with", "ends with", "greater than", "less than")
    inputs = (
        Input("df", "Table", "other", "", input_types=_TABLE_IN, is_list=True, required=True, input_kind="DataFrameInput"),
        Input("operation", "Operation", "sortableList", "", options=tuple({"name": n} for n in _OPS), input_kind="SortableListInput"),
        Input("column_name", "Column Name", "str", "", input_kind="StrInput"),
        Input("filter_value", "Filter Value", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("filter_operator", "Filter Operator", "str", "equals", options=_FILTERS, input_kind="DropdownInput"),
        Input("ascending", "Sort Ascending", "bool", True, input_kind="BoolInput"),
        Input("new_column_name", "New Column Name", "str", "", input_kind="StrInput"),
        Input("new_column_value", "New Column Value", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("columns_to_select", "Columns to Select", "str", "", is_list=True, input_kind="StrInput"),
        Input("num_rows", "Number of Rows", "int", 5, input_kind="IntInput"),
        Input("replace_value", "Value to Replace", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("replacement_value", "Replacement Value", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("left_dataframe", "Left Table", "other", "", input_types=_TABLE_IN, input_kind="DataFrameInput"),
        Input("right_dataframe", "Right Table", "other", "", input_types=_TABLE_IN, input_kind="DataFrameInput"),
        Input("merge_on_column", "Merge On Column", "str", "", input_kind="StrInput"),
        Input("merge_how", "Merge Type", "str", "inner", options=("inner", "outer", "left", "right"), input_kind="DropdownInput"),
    )
    outputs = (Output("output", "perform_operation", ("Table",), "Table"),)

    def _column(self, rows: list[dict[str, Any]]) -> str:
        column = to_text(self.param("column_name", "")).strip()
        if not column:
            raise ValueError("Column Name is required for this operation")
        if rows and all(column not in row for row in rows):
            raise ValueError(f"Column '{column}' not found in the table")
        return column

    async def perform_operation(self) -> DataFrame:
        op = _selected(self.params.get("operation"))
        frames = _frames(self.params.get("df"))
        rows = [dict(r) for f in frames[:1] for r in f.rows]
        if not op:
            return DataFrame(rows=rows)
        n = to_int(self.param("num_rows", 5), 5)
        if op == "Add Column":
            name = to_text(self.param("new_column_name", "")).strip()
            if not name:
                raise ValueError("New Column Name is required to add a column")
            value = to_text(self.params.get("new_column_value"))
            return DataFrame(rows=[{**r, name: value} for r in rows])
        if op == "Concatenate":
            return DataFrame(rows=[dict(r) for f in frames for r in f.rows])
        if op == "Drop Column":
            column = self._column(rows)
            return DataFrame(rows=[{k: v for k, v in r.items() if k != column} for r in rows])
        if op == "Filter":
            column = self._column(rows)
            return DataFrame(rows=[r for r in rows if self._keep(r.get(column))])
        if op == "Head":
            return DataFrame(rows=rows[: max(0, n)])
        if op == "Tail":
            return DataFrame(rows=rows[-n:] if n > 0 else [])
        if op == "Rename Column":
            column, new = self._column(rows), to_text(self.param("new_column_name", "")).strip()
            if not new:
                raise ValueError("New Column Name is required to rename a column")
            return DataFrame(rows=[{(new if k == column else k): v for k, v in r.items()} for r in rows])
        if op == "Replace Value":
            column = self._column(rows)
            old, new = to_text(self.params.get("replace_value")), to_text(self.params.get("replacement_value"))
            return DataFrame(rows=[{**r, column: new if to_text(r.get(column)) == old else r.get(column)} for r in rows])
        if op == "Select Columns":
            wanted = self.params.get("columns_to_select") or []
            wanted = [to_text(c).strip() for c in (wanted if isinstance(wanted, list) else str(wanted).split(",")) if to_text(c).strip()]
            return DataFrame(rows=[{c: r.get(c) for c in wanted} for r in rows])
        if op == "Sort":
            column = self._column(rows)
            numeric = all(_number(r.get(column)) is not None for r in rows)
            key = (lambda r: _number(r.get(column))) if numeric else (lambda r: to_text(r.get(column)))
            return DataFrame(rows=sorted(rows, key=key, reverse=not to_bool(self.param("ascending", True))))
        if op == "Drop Duplicates":
            column = self._column(rows)
            seen: set[str] = set()
            unique = []
            for r in rows:
                marker = json.dumps(r.get(column), sort_keys=True, default=str)
                if marker not in seen:
                    seen.add(marker)
                    unique.append(r)
            return DataFrame(rows=unique)
        if op == "Merge":
            return self._merge()
        raise ValueError(f"Unsupported operation: {op}")

    def _keep(self, cell: Any) -> bool:
        op = to_text(self.param("filter_operator", "equals"))
        target = to_text(self.params.get("filter_value"))
        text = to_text(cell)
        if op in ("greater than", "less than"):
            a, b = _number(cell), _number(target)
            if a is None or b is None:
                return False
            return a > b if op == "greater than" else a < b
        return {
            "equals": text == target, "not equals": text != target, "contains": target in text, "not contains": target not in text,
            "starts with": text.startswith(target), "ends with": text.endswith(target),
        }.get(op, text == target)

    def _merge(self) -> DataFrame:
        left = _frames(self.params.get("left_dataframe"))
        right = _frames(self.params.get("right_dataframe"))
        if not left or not right:
            raise ValueError("Merge needs a Left Table and a Right Table")
        column = to_text(self.param("merge_on_column", "")).strip()
        if not column:
            raise ValueError("Merge On Column is required")
        how = to_text(self.param("merge_how", "inner"))
        lrows, rrows = left[0].rows, right[0].rows
        rcols = [c for r in rrows for c in r if c != column]
        lcols = [c for r in lrows for c in r if c != column]
        out: list[dict[str, Any]] = []
        matched_right: set[int] = set()
        for lrow in lrows:
            hits = [i for i, r in enumerate(rrows) if r.get(column) == lrow.get(column)]
            for i in hits:
                matched_right.add(i)
                out.append(_join_row(lrow, rrows[i], column))
            if not hits and how in ("left", "outer"):
                out.append(_join_row(lrow, {c: None for c in rcols}, column))
        if how in ("right", "outer"):
            for i, rrow in enumerate(rrows):
                if i not in matched_right:
                    out.append(_join_row({c: None for c in lcols} | {column: rrow.get(column)}, rrow, column))
        return DataFrame(rows=out)


def _join_row(left: dict[str, Any], right: dict[str, Any], on: str) -> dict[str, Any]:
    row = {}
    for k, v in left.items():
        row[f"{k}_x" if k != on and k in right else k] = v
    for k, v in right.items():
        if k == on:
            row.setdefault(k, v)
        else:
            row[f"{k}_y" if k in left else k] = v
    return row


class ParseDataFrameComponent(Component):
    type_name = "ParseDataFrame"
    display_name = "Parse DataFrame"
    description = "Convert a DataFrame into plain text following a specified template. Each column in the DataFrame is treated as a possible template key, e.g. {col_name}."
    icon = "braces"
    inputs = (
        Input("df", "Table", "other", "", input_types=_TABLE_IN, info="The DataFrame to convert to text rows.", input_kind="DataFrameInput"),
        Input("template", "Template", "str", "{text}", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("sep", "Separator", "str", "\n", advanced=True, input_kind="StrInput"),
    )
    outputs = (Output("text", "parse_data", ("Message",), "Text"),)

    async def parse_data(self) -> Message:
        template = to_text(self.param("template", "{text}")) or "{text}"
        rows = [r for f in _frames(self.params.get("df")) for r in f.rows]
        text = to_text(self.param("sep", "\n")).join(format_data(Data(data=dict(r)), template) for r in rows)
        self.status = text
        return Message(text=text)


class RegexExtractorComponent(ToolModeMixin, Component):
    type_name = "RegexExtractorComponent"
    display_name = "Regex Extractor"
    description = "Extract patterns from text using regular expressions."
    icon = "regex"
    inputs = (
        Input("input_text", "Input Text", "str", "", input_types=_MSG, required=True, info="The text to analyze", input_kind="MessageTextInput"),
        Input("pattern", "Regex Pattern", "str", "", input_types=_MSG, required=True, info="The regular expression pattern to match", input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "extract_matches", ("JSON",), "JSON"), Output("text", "get_matches_text", ("Message",), "Message"))
    tool_fields = {"pattern": ("string", "The regular expression pattern to match")}

    async def extract_matches(self) -> list[Data]:
        text, pattern = to_text(self.params.get("input_text")), to_text(self.params.get("pattern"))
        if not pattern or not text:
            return []
        if len(pattern) > MAX_PATTERN_CHARS:
            return [Data(data={"error": f"Invalid regex pattern: longer than {MAX_PATTERN_CHARS} characters"})]
        try:
            matches = re.compile(pattern).findall(text[:MAX_REGEX_INPUT_CHARS])
        except re.error as exc:
            return [Data(data={"error": f"Invalid regex pattern: {exc}"})]
        result = [Data(data={"match": m}) for m in matches if m]
        self.status = result
        return result

    async def get_matches_text(self) -> Message:
        matches = await self.extract_matches()
        if not matches:
            return Message(text="No matches found")
        if "error" in matches[0].data:
            return Message(text=matches[0].data["error"])
        return Message(text="\n".join(to_text(m.data["match"]) if not isinstance(m.data["match"], tuple) else str(m.data["match"]) for m in matches))


class PassComponent(Component):
    type_name = "Pass"
    display_name = "Pass"
    description = "Forwards the input message, unchanged."
    category = "flow_controls"
    icon = "arrow-right"
    inputs = (
        Input("input_message", "Input Message", "str", "", input_types=_MSG, required=True, info="The message to be passed forward.", input_kind="MessageInput"),
        Input("ignored_message", "Ignored Message", "str", "", input_types=_MSG, advanced=True,
              info="A second message to be ignored. Used as a workaround for continuity.", input_kind="MessageInput"),
    )
    outputs = (Output("output_message", "pass_message", ("Message",), "Output Message"),)

    async def pass_message(self) -> Message:
        value = self.params.get("input_message")
        message = value if isinstance(value, Message) else Message(text=to_text(value))
        self.status = message
        return message


class CurrentDateComponent(ToolModeMixin, Component):
    type_name = "CurrentDate"
    display_name = "Current Date"
    description = "Returns the current date and time in the selected timezone."
    category = "utilities"
    icon = "clock"
    inputs = (Input("timezone", "Timezone", "str", "UTC", info="Select the timezone for the current date and time.", input_kind="DropdownInput"),)
    outputs = (Output("current_date", "get_current_date", ("Message",), "Current Date"),)
    tool_fields = {"timezone": ("string", "An IANA timezone name, e.g. UTC or Europe/Paris.")}

    async def get_current_date(self) -> Message:
        from datetime import datetime
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = to_text(self.param("timezone", "UTC")).strip() or "UTC"
        try:
            now = datetime.now(ZoneInfo(name)).strftime("%Y-%m-%d %H:%M:%S %Z")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            text = f"Error: {exc!r}" if not str(exc) else f"Error: {exc}"
        else:
            text = f"Current date and time in {name}: {now}"
        self.status = text
        return Message(text=text)


# ---- LangChain text splitters -------------------------------------------------------------------


def _documents(value: Any) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for item in to_data_list(value):
        metadata = dict(item.data)
        text = metadata.pop(item.text_key, item.default_value)
        docs.append((text if isinstance(text, str) else str(text), metadata))
    return docs


class RecursiveSplitter:
    """LangChain's RecursiveCharacterTextSplitter: split on the first separator present (kept at
    the start of the following piece), merge small pieces up to `chunk_size`, split big ones
    again with the next separators."""

    def __init__(self, chunk_size: int, chunk_overlap: int, separators: list[str] | None = None) -> None:
        self.merger = CharacterSplitter(chunk_size, chunk_overlap, "", keep_separator=True)
        self.chunk_size = chunk_size
        self.separators = separators or ["\n\n", "\n", " ", ""]

    def split(self, text: str) -> list[str]:
        return self._split(text, self.separators)

    def _split(self, text: str, separators: list[str]) -> list[str]:
        pieces, rest = self._pieces(text, separators)
        chunks: list[str] = []
        good: list[str] = []
        for piece in pieces:
            if len(piece) < self.chunk_size:
                good.append(piece)
                continue
            if good:
                chunks.extend(self.merger._merge(good, ""))
                good = []
            chunks.extend(self._split(piece, rest) if rest else [piece])
        if good:
            chunks.extend(self.merger._merge(good, ""))
        return self._finish(chunks)

    def _pieces(self, text: str, separators: list[str]) -> tuple[list[str], list[str]]:
        """The text cut at the first separator it holds (kept at the start of the following piece),
        and the separators left for pieces still too big."""
        separator, rest = separators[-1], []
        for i, candidate in enumerate(separators):
            if candidate == "":
                separator = ""
                break
            if candidate in text:
                separator, rest = candidate, separators[i + 1 :]
                break
        if separator:
            parts = re.split(f"({re.escape(separator)})", text)
            pieces = [parts[0]] + [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)]
            if len(parts) % 2 == 0:
                pieces.append(parts[-1])
        else:
            pieces = list(text)
        return [p for p in pieces if p], rest

    def _finish(self, chunks: list[str]) -> list[str]:
        return chunks


class _LCSplitter(Component):
    category = "langchain_utilities"
    icon = "LangChain"
    outputs = (Output("data", "transform_data", ("JSON",), "JSON"),)

    def _splitter(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    async def transform_data(self) -> list[Data]:
        value = self.params.get("data_input")
        if value is None or value == "":
            value = self.params.get("inputs")  # very old exports named the field `inputs`
        splitter = self._splitter()
        out = []
        for text, metadata in _documents(value):
            for chunk in splitter.split(text):
                out.append(Data(data={**metadata, "text": chunk}))
        self.status = out
        return out

    async def split_data(self) -> list[Data]:  # pre-1.1 output method
        return await self.transform_data()

    def _sizes(self) -> tuple[int, int]:
        return to_int(self.param("chunk_size", 1000), 1000), to_int(self.param("chunk_overlap", 200), 200)


_SPLIT_INPUTS = (
    Input("chunk_size", "Chunk Size", "int", 1000, info="The maximum length of each chunk.", input_kind="IntInput"),
    Input("chunk_overlap", "Chunk Overlap", "int", 200, info="The amount of overlap between chunks.", input_kind="IntInput"),
    Input("data_input", "Input", "other", "", input_types=("Document", "Data", "JSON"), required=True,
          info="The texts to split.", input_kind="DataInput"),
)


class RecursiveCharacterTextSplitterComponent(_LCSplitter):
    type_name = "RecursiveCharacterTextSplitter"
    display_name = "Recursive Character Text Splitter"
    description = "Split text trying to keep all related text together."
    inputs = (*_SPLIT_INPUTS, Input("separators", "Separators", "str", "", input_types=_MSG, is_list=True,
                                    info="The characters to split on. If left empty defaults to [\"\\n\\n\", \"\\n\", \" \", \"\"].", input_kind="MessageTextInput"))

    def _splitter(self) -> RecursiveSplitter:
        raw = self.params.get("separators")
        items = raw if isinstance(raw, list) else ([raw] if raw else [])
        separators = [_unescape(to_text(s)) for s in items if to_text(s) != ""]
        size, overlap = self._sizes()
        return RecursiveSplitter(size, overlap, separators or None)


class CharacterTextSplitterComponent(_LCSplitter):
    type_name = "CharacterTextSplitter"
    display_name = "Character Text Splitter"
    description = "Split text by number of characters."
    inputs = (*_SPLIT_INPUTS, Input("separator", "Separator", "str", "", input_types=_MSG,
                                    info='The characters to split on.\nIf left empty defaults to "\\n\\n".', input_kind="MessageTextInput"))

    def _splitter(self) -> CharacterSplitter:
        separator = _unescape(to_text(self.param("separator", ""))) or "\n\n"
        size, overlap = self._sizes()
        return CharacterSplitter(size, overlap, separator)


# ---- small Data / Table nodes of 1.13's processing category -------------------------------------


def _text_of(value: Any) -> Any:
    return value.text if isinstance(value, Data) else value.plain_text if isinstance(value, Message) else value


class MessageToDataComponent(Component):
    type_name = "MessagetoData"
    display_name = "Message to Data"
    description = "Convert a Message object to a Data object"
    icon = "message-square-share"
    inputs = (Input("message", "Message", "str", "", input_types=_MSG, info="The Message object to convert to a Data object", input_kind="MessageInput"),)
    outputs = (Output("data", "convert_message_to_data", ("JSON",), "JSON"),)

    async def convert_message_to_data(self) -> Data:
        value = self.params.get("message")
        if isinstance(value, Message):
            await value.resolve()
            return Data(data={"text": value.plain_text, "sender": value.sender, "sender_name": value.sender_name,
                              "session_id": value.session_id, "timestamp": value.timestamp, "files": list(value.files)})
        if isinstance(value, str):
            return Data(data={"text": value})
        raise ValueError("Error converting Message to Data: Input must be a Message object")


class DataToDataFrameComponent(Component):
    type_name = "DataToDataFrame"
    display_name = "Data → DataFrame"
    description = ("Converts one or multiple Data objects into a DataFrame. Each Data object corresponds to one row. "
                   "Fields from `.data` become columns, and the `.text` (if present) is placed in a 'text' column.")
    icon = "table"
    inputs = (Input("data_list", "Data or Data List", "other", "", input_types=_JSON_IN, is_list=True, input_kind="DataInput"),)
    outputs = (Output("dataframe", "build_dataframe", ("Table",), "Table"),)

    async def build_dataframe(self) -> DataFrame:
        value = self.params.get("data_list")
        items = value if isinstance(value, list) else [value] if value not in (None, "") else []
        rows = []
        for item in items:
            if not isinstance(item, Data):
                raise TypeError(f"Expected Data objects, got {type(item).__name__} instead.")
            rows.append(dict(item.data))
        return DataFrame(rows=rows)


class ExtractKeyComponent(Component):
    type_name = "ExtractaKey"
    display_name = "Extract Key"
    description = "Extract a specific key from a Data object or a list of Data objects and return the extracted value(s) as Data object(s)."
    icon = "key"
    inputs = (
        Input("data_input", "Data Input", "other", "", input_types=_JSON_IN, info="The Data object or list of Data objects to extract the key from.", input_kind="DataInput"),
        Input("key", "Key to Extract", "str", "", info="The key in the Data object(s) to extract.", input_kind="StrInput"),
    )
    outputs = (Output("extracted_data", "extract_key", ("JSON",), "Extracted Data"),)

    async def extract_key(self) -> Data | list[Data]:
        key = to_text(self.params.get("key"))
        value = self.params.get("data_input")
        if isinstance(value, list):
            return [Data(data={key: item.data[key]}) for item in value if isinstance(item, Data) and key in item.data]
        if isinstance(value, Data):
            if key in value.data:
                return Data(data={key: value.data[key]})
            return Data(data={"error": f"Key '{key}' not found in Data object."})
        return Data(data={"error": "Invalid input. Expected Data object or list of Data objects."})


class SelectDataComponent(Component):
    type_name = "SelectData"
    display_name = "Select Data"
    description = "Select a single data from a list of data."
    icon = "prototypes"
    inputs = (
        Input("data_list", "JSON List", "other", "", input_types=_JSON_IN, is_list=True, input_kind="DataInput"),
        Input("data_index", "Data Index", "int", 0, info="Index of the data to select.", input_kind="IntInput"),
    )
    outputs = (Output("selected_data", "select_data", ("JSON",), "Selected Data"),)

    async def select_data(self) -> Data:
        items = to_data_list(self.params.get("data_list"))
        index = to_int(self.param("data_index", 0), 0)
        if not 0 <= index < len(items):
            raise ValueError(f"Selected index {index} is out of range.")
        return items[index]


def _dynamic_pairs(component: Component, skip: set[str]) -> dict[str, Any]:
    """The key/value dict fields Create/Update Data add to the node (`field_<n>_key`)."""
    data: dict[str, Any] = {}
    for name, value in component.params.items():
        if name in skip or name == "code" or not isinstance(value, dict):
            continue
        data.update({k: _text_of(v) for k, v in value.items()})
    return data


class CreateDataComponent(Component):
    type_name = "CreateData"
    display_name = "Create Data"
    description = "Dynamically create a Data with a specified number of fields."
    icon = "ListFilter"
    inputs = (
        Input("number_of_fields", "Number of Fields", "int", 1, info="Number of fields to be added to the record.", input_kind="IntInput"),
        Input("text_key", "Text Key", "str", "", input_types=_MSG, advanced=True, info="Key that identifies the field to be used as the text content.", input_kind="MessageTextInput"),
        Input("text_key_validator", "Text Key Validator", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("data", "build_data", ("JSON",), "JSON"),)

    async def build_data(self) -> Data:
        data = _dynamic_pairs(self, {"number_of_fields", "text_key", "text_key_validator"})
        text_key = to_text(self.params.get("text_key"))
        if to_bool(self.param("text_key_validator", False)) and text_key and text_key not in data:
            raise ValueError(f"Text Key: '{text_key}' not found in the Data keys: '{', '.join(data)}'")
        return Data(data=data, text_key=text_key or "text")


class UpdateDataComponent(Component):
    type_name = "UpdateData"
    display_name = "Update Data"
    description = "Dynamically update or append data with the specified fields."
    icon = "FolderSync"
    inputs = (
        Input("old_data", "JSON", "other", "", input_types=_JSON_IN, is_list=True, required=True, input_kind="DataInput"),
        Input("number_of_fields", "Number of Fields", "int", 0, input_kind="IntInput"),
        Input("text_key", "Text Key", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("text_key_validator", "Text Key Validator", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("data", "build_data", ("JSON",), "JSON"),)

    async def build_data(self) -> Data | list[Data]:
        new = _dynamic_pairs(self, {"number_of_fields", "text_key", "text_key_validator", "old_data"})
        text_key = to_text(self.params.get("text_key"))
        value = self.params.get("old_data")
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if not isinstance(item, Data):
                continue
            updated = Data(data={**item.data, **new}, text_key=text_key or item.text_key, default_value=item.default_value)
            if to_bool(self.param("text_key_validator", False)) and updated.text_key not in updated.data:
                raise ValueError(f"Text Key: '{updated.text_key}' not found in the Data keys.")
            out.append(updated)
        if isinstance(value, list):
            return out
        if not out:
            raise ValueError("old_data is not a Data object or list of Data objects.")
        return out[0]


class AlterMetadataComponent(Component):
    type_name = "AlterMetadata"
    display_name = "Alter Metadata"
    description = "Adds/Removes Metadata Dictionary on inputs"
    icon = "merge"
    inputs = (
        Input("input_value", "Input", "other", "", input_types=("Message", "Data", "JSON"), is_list=True, input_kind="HandleInput"),
        Input("text_in", "User Text", "str", "", info="Text input; the value will be in the 'text' attribute of the Data object.", input_kind="StrInput"),
        Input("metadata", "Metadata", "NestedDict", {}, input_types=_JSON_IN, required=True, input_kind="NestedDictInput"),
        Input("remove_fields", "Fields to Remove", "str", "", input_types=_MSG, is_list=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "process_output", ("JSON",), "JSON"), Output("dataframe", "as_dataframe", ("Table",), "Table"))

    async def process_output(self) -> list[Data]:
        from flowless_engine.components.search import dict_param

        metadata = {k: v for k, v in dict_param(self.params.get("metadata")).items() if k}
        items = [Data(data={"text": to_text(self.params.get("text_in"))})] if to_text(self.params.get("text_in")) else []
        value = self.params.get("input_value")
        for item in value if isinstance(value, list) else ([value] if value not in (None, "") else []):
            if isinstance(item, Message):
                items.append(Data(data={"text": item.plain_text}))
            elif isinstance(item, Data):
                items.append(Data(data=dict(item.data), text_key=item.text_key))
        raw = self.params.get("remove_fields") or []
        remove = {to_text(f).strip() for f in (raw if isinstance(raw, list) else [raw]) if to_text(f).strip()}
        for item in items:
            item.data = {k: v for k, v in {**item.data, **metadata}.items() if k not in remove}
        return items

    async def as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self.process_output()])


class CreateListComponent(Component):
    type_name = "CreateList"
    display_name = "Create List"
    description = "Creates a list of texts."
    icon = "list"
    inputs = (Input("texts", "Texts", "str", "", is_list=True, info="Enter one or more texts.", input_kind="StrInput"),)
    outputs = (Output("list", "create_list", ("JSON",), "JSON List"), Output("dataframe", "as_dataframe", ("Table",), "Table"))

    async def create_list(self) -> list[Data]:
        raw = self.params.get("texts") or []
        return [Data(data={"text": to_text(t)}) for t in (raw if isinstance(raw, list) else [raw])]

    async def as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self.create_list()])


class FilterDataValuesComponent(Component):
    type_name = "FilterDataValues"
    display_name = "Filter Values"
    description = ("Filter a list of data items based on a specified key, filter value, and comparison operator. "
                   "Check advanced options to select match comparison.")
    icon = "filter"
    inputs = (
        Input("input_data", "Input Data", "other", "", input_types=_JSON_IN, is_list=True, input_kind="DataInput"),
        Input("filter_key", "Filter Key", "str", "route", input_types=_JSON_IN, input_kind="MessageTextInput"),
        Input("filter_value", "Filter Value", "str", "CMIP", input_types=_JSON_IN, input_kind="MessageTextInput"),
        Input("operator", "Comparison Operator", "str", "equals", options=("equals", "not equals", "contains", "starts with", "ends with"), advanced=True, input_kind="DropdownInput"),
    )
    outputs = (Output("filtered_data", "filter_data", ("JSON",), "Filtered Data"),)

    async def filter_data(self) -> list[Data]:
        key, target = to_text(_text_of(self.params.get("filter_key"))), to_text(_text_of(self.params.get("filter_value")))
        op = to_text(self.param("operator", "equals"))
        keep = {"equals": lambda a: a == target, "not equals": lambda a: a != target, "contains": lambda a: target in a,
                "starts with": lambda a: a.startswith(target), "ends with": lambda a: a.endswith(target)}.get(op, lambda a: a == target)
        return [d for d in to_data_list(self.params.get("input_data")) if key in d.data and keep(str(d.data[key]))]


# ---- Semantic Text Splitter ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    """numpy.percentile's default (linear interpolation)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _cosine_distance(a: list[float], b: list[float]) -> float:
    import math

    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - (dot / norm if norm else 0.0)


async def semantic_chunks(text: str, embedder: Any, *, threshold_type: str, amount: float, number_of_chunks: int | None,
                          buffer_size: int, sentence_regex: str) -> list[str]:
    """LangChain's SemanticChunker: sentences (with `buffer_size` neighbours) embedded, a break
    wherever the distance to the next one is above the threshold."""
    import statistics

    sentences = re.split(sentence_regex or r"(?<=[.?!])\s+", text)
    if len(sentences) == 1:
        return sentences
    combined = [" ".join(sentences[max(0, i - buffer_size): i + buffer_size + 1]) for i in range(len(sentences))]
    vectors = await embedder.embed_documents(combined)
    distances = [_cosine_distance(vectors[i], vectors[i + 1]) for i in range(len(vectors) - 1)]
    if number_of_chunks:
        x1, x = float(len(distances)), max(min(float(number_of_chunks), float(len(distances))), 1.0)
        y = 100.0 if x1 == 1.0 else 0.0 + (100.0 / (1.0 - x1)) * (x - x1)
        threshold = _percentile(distances, min(max(y, 0.0), 100.0))
    elif threshold_type == "standard_deviation":
        threshold = statistics.fmean(distances) + amount * statistics.pstdev(distances)
    elif threshold_type == "interquartile":
        threshold = statistics.fmean(distances) + amount * (_percentile(distances, 75) - _percentile(distances, 25))
    else:
        threshold = _percentile(distances, amount)
    chunks, start = [], 0
    for index, distance in enumerate(distances):
        if distance > threshold:
            chunks.append(" ".join(sentences[start: index + 1]))
            start = index + 1
    if start < len(sentences):
        chunks.append(" ".join(sentences[start:]))
    return chunks


class SemanticTextSplitterComponent(Component):
    type_name = "SemanticTextSplitter"
    display_name = "Semantic Text Splitter"
    description = "Split text into semantically meaningful chunks using semantic similarity."
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("data_inputs", "Data Inputs", "other", "", input_types=("Data", "JSON"), is_list=True, required=True, input_kind="HandleInput"),
        Input("embeddings", "Embeddings", "other", "", input_types=("Embeddings",), required=True, input_kind="HandleInput"),
        Input("breakpoint_threshold_type", "Breakpoint Threshold Type", "str", "percentile",
              options=("percentile", "standard_deviation", "interquartile"), input_kind="DropdownInput"),
        Input("breakpoint_threshold_amount", "Breakpoint Threshold Amount", "float", 0.5, input_kind="FloatInput"),
        Input("number_of_chunks", "Number of Chunks", "int", 5, input_kind="IntInput"),
        Input("sentence_split_regex", "Sentence Split Regex", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("buffer_size", "Buffer Size", "int", 0, advanced=True, input_kind="IntInput"),
    )
    outputs = (Output("chunks", "split_text", ("JSON",), "Chunks"),)

    async def split_text(self) -> list[Data]:
        from flowless_engine.llm.embeddings import EmbeddingConfig

        config = self.params.get("embeddings")
        if not isinstance(config, EmbeddingConfig):
            raise ValueError("An embeddings model is required for SemanticTextSplitter.")
        documents = _documents(self.params.get("data_inputs"))
        if not documents:
            raise ValueError("Data inputs cannot be empty.")
        embedder = self.ctx.embedder(config)
        try:
            amount = float(self.param("breakpoint_threshold_amount", 0.5))
        except (TypeError, ValueError):
            amount = 0.5
        number = to_int(self.params.get("number_of_chunks"), 0) or None
        out = []
        for text, metadata in documents:
            chunks = await semantic_chunks(text, embedder, threshold_type=to_text(self.param("breakpoint_threshold_type", "percentile")),
                                           amount=amount, number_of_chunks=number, buffer_size=to_int(self.param("buffer_size", 0), 0),
                                           sentence_regex=to_text(self.params.get("sentence_split_regex")))
            out.extend(Data(data={**metadata, "text": chunk}) for chunk in chunks)
        self.status = out
        return out


# ---- Text Operations --------------------------------------------------------------------------------

_TEXT_OPS = ("Word Count", "Case Conversion", "Text Replace", "Text Extract", "Text Head", "Text Tail", "Text Strip", "Text Join",
             "Text Clean", "Text to DataFrame")
_CASES = {"uppercase": str.upper, "lowercase": str.lower, "title": str.title, "capitalize": str.capitalize, "swapcase": str.swapcase}


class TextOperationsComponent(Component):
    type_name = "TextOperations"
    display_name = "Text Operations"
    description = "Perform various text processing operations including text-to-DataFrame conversion."
    icon = "type"
    inputs = (
        Input("text_input", "Text Input", "str", "", input_types=_MSG, required=True, multiline=True, input_kind="MultilineInput"),
        Input("operation", "Operation", "sortableList", "", options=tuple({"name": n} for n in _TEXT_OPS), input_kind="SortableListInput"),
        Input("table_separator", "Table Separator", "str", "|", input_kind="StrInput"),
        Input("has_header", "Has Header", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("count_words", "Count Words", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("count_characters", "Count Characters", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("count_lines", "Count Lines", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("case_type", "Case Type", "str", "lowercase", options=tuple(_CASES), input_kind="DropdownInput"),
        Input("use_regex", "Use Regex", "bool", False, input_kind="BoolInput"),
        Input("search_pattern", "Search Pattern", "str", "", input_kind="StrInput"),
        Input("replacement_text", "Replacement Text", "str", "", input_kind="StrInput"),
        Input("extract_pattern", "Extract Pattern", "str", "", input_kind="StrInput"),
        Input("max_matches", "Max Matches", "int", 10, input_kind="IntInput"),
        Input("head_characters", "Characters from Start", "int", 100, input_kind="IntInput"),
        Input("tail_characters", "Characters from End", "int", 100, input_kind="IntInput"),
        Input("strip_mode", "Strip Mode", "str", "both", options=("both", "left", "right"), input_kind="DropdownInput"),
        Input("strip_characters", "Characters to Strip", "str", "", input_kind="StrInput"),
        Input("text_input_2", "Second Text Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("remove_extra_spaces", "Remove Extra Spaces", "bool", True, input_kind="BoolInput"),
        Input("remove_special_chars", "Remove Special Characters", "bool", False, input_kind="BoolInput"),
        Input("remove_empty_lines", "Remove Empty Lines", "bool", False, input_kind="BoolInput"),
    )
    # The node shows one of these depending on the operation (Langflow adds them as it changes).
    outputs = (
        Output("message", "get_message", ("Message",), "Message"),
        Output("data", "get_data", ("JSON",), "JSON"),
        Output("dataframe", "get_dataframe", ("Table",), "Table"),
        Output("text", "get_text", ("Message",), "Text"),
    )

    def _op(self) -> str:
        return _selected(self.params.get("operation"))

    def _process(self) -> Any:
        text = to_text(self.params.get("text_input"))
        op = self._op()
        if not text and op not in ("Text Join", "Word Count"):
            return None
        if op == "Word Count":
            return self._word_count(text)
        if op == "Case Conversion":
            return _CASES.get(to_text(self.param("case_type", "lowercase")), lambda s: s)(text)
        if op == "Text Replace":
            pattern = to_text(self.params.get("search_pattern"))
            if not pattern:
                return text
            replacement = to_text(self.params.get("replacement_text"))
            if to_bool(self.param("use_regex", False)):
                try:
                    return re.sub(pattern, replacement, text[:MAX_REGEX_INPUT_CHARS])
                except re.error as exc:
                    self.log(f"Invalid regex pattern: {exc}")
                    return text
            return text.replace(pattern, replacement)
        if op == "Text Extract":
            pattern = to_text(self.params.get("extract_pattern"))
            if not pattern:
                return []
            try:
                matches = re.findall(pattern, text[:MAX_REGEX_INPUT_CHARS])
            except re.error as exc:
                raise ValueError(f"Invalid regex pattern '{pattern}': {exc}") from exc
            limit = to_int(self.param("max_matches", 10), 10)
            return matches[:limit] if limit > 0 else matches
        if op in ("Text Head", "Text Tail"):
            field = "head_characters" if op == "Text Head" else "tail_characters"
            n = to_int(self.param(field, 100), 100)
            if n < 0:
                raise ValueError(f"{'Characters from Start' if op == 'Text Head' else 'Characters from End'} must be a non-negative integer, got {n}")
            return "" if n == 0 else (text[:n] if op == "Text Head" else text[-n:])
        if op == "Text Strip":
            chars = to_text(self.params.get("strip_characters")) or None
            mode = to_text(self.param("strip_mode", "both"))
            return text.lstrip(chars) if mode == "left" else text.rstrip(chars) if mode == "right" else text.strip(chars)
        if op == "Text Join":
            other = to_text(self.params.get("text_input_2"))
            return f"{text}\n{other}" if text and other else text or other
        if op == "Text Clean":
            result = text
            if to_bool(self.param("remove_extra_spaces", True)):
                result = re.sub(r"\s+", " ", result)
            if to_bool(self.param("remove_special_chars", False)):
                result = re.sub(r"[^\w\s]", "", result)
            if to_bool(self.param("remove_empty_lines", False)):
                result = "\n".join(line for line in result.split("\n") if line.strip())
            return result
        if op == "Text to DataFrame":
            return self._table(text)
        return text

    def _word_count(self, text: str) -> dict[str, Any]:
        empty = not text.strip()
        out: dict[str, Any] = {}
        if to_bool(self.param("count_words", True)):
            words = text.split()
            out.update(word_count=0 if empty else len(words), unique_words=0 if empty else len(set(words)))
        if to_bool(self.param("count_characters", True)):
            out.update(character_count=0 if empty else len(text), character_count_no_spaces=0 if empty else len(text.replace(" ", "")))
        if to_bool(self.param("count_lines", True)):
            lines = text.split("\n")
            out.update(line_count=0 if empty else len(lines), non_empty_lines=0 if empty else len([ln for ln in lines if ln.strip()]))
        return out

    def _table(self, text: str) -> DataFrame:
        separator = to_text(self.param("table_separator", "|")) or "|"
        header = to_bool(self.param("has_header", True))
        lines = [ln.strip() for ln in text.strip().split("\n") if ln.strip()]
        rows = []
        for index, line in enumerate(lines):
            cells = [c.strip() for c in line.strip(separator).split(separator)]
            if header and index == 1 and all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                continue
            rows.append(cells)
        if not rows:
            return DataFrame()
        if header:
            columns, body = rows[0], rows[1:]
            for i, row in enumerate(body):
                if len(row) != len(columns):
                    raise ValueError(f"Header mismatch: {len(columns)} column(s) in header vs {len(row)} column(s) in data row {i + 1}. "
                                     "Please ensure the header has the same number of columns as your data.")
        else:
            width = max(len(r) for r in rows)
            columns, body = [f"col_{i}" for i in range(width)], rows
        records = [dict(zip(columns, row + [None] * (len(columns) - len(row)))) for row in body]
        for column in columns:  # numeric columns become numbers (pandas.to_numeric)
            values = [r[column] for r in records]
            try:
                numbers = [float(v) for v in values]
            except (TypeError, ValueError):
                continue
            for record, number in zip(records, numbers):
                record[column] = int(number) if number.is_integer() and all("." not in str(v) for v in values) else number
        return DataFrame(rows=records)

    @staticmethod
    def _as_text(result: Any) -> str:
        if result is None:
            return ""
        if isinstance(result, list):
            return "\n".join(str(item) for item in result)
        if isinstance(result, DataFrame):
            return json.dumps(result.rows, ensure_ascii=False)
        return str(result)

    async def get_message(self) -> Message:
        return Message(text=self._as_text(self._process()))

    async def get_text(self) -> Message:
        return Message(text=self._as_text(self._process()))

    async def get_data(self) -> Data:
        if self._op() != "Word Count":
            return Data(data={})
        result = self._process()
        return Data(data=result if isinstance(result, dict) else {})

    async def get_dataframe(self) -> DataFrame:
        if self._op() != "Text to DataFrame" or not to_text(self.params.get("text_input")):
            return DataFrame()
        return self._table(to_text(self.params.get("text_input")))
