"""Text and data shaping: Parser, Parse Data (legacy), Split Text, Type Convert, Combine Text.

Templates use Python's `{name}` syntax like Langflow's `str.format`, but are rendered by our own
walker: placeholders only look keys up (and index dicts/lists); attribute access never happens.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
from collections.abc import Callable
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.schema import Data, DataFrame, Message

_TABLE_TYPES = ("DataFrame", "Table", "Data", "JSON")
_MESSAGE = ("Message",)
# A format spec's width and precision allocate that many characters: bounded, so a pattern like
# "{text:>999999999}" is refused instead of building a gigabyte string.
MAX_FORMAT_WIDTH = 10_000
_SPEC_NUMBER = re.compile(r"\d+")


# ---- template rendering ---------------------------------------------------------------

def render_template(template: str, values: dict[str, Any], missing: Callable[[str], Any]) -> str:
    """`template.format_map(values)` without attribute access. `missing(name)` supplies (or
    refuses, by raising) the value of an unknown placeholder."""
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # unbalanced braces, as str.format would report
        raise ValueError(f"Invalid template: {exc}") from exc
    for literal, field_name, spec, conversion in parsed:
        parts.append(literal)
        if field_name is None:
            continue
        found, value = _lookup(values, field_name)
        if not found:
            value = missing(field_name)
        if conversion == "r":
            value = repr(value)
        elif conversion == "a":
            value = ascii(value)
        elif conversion == "s":
            value = str(value)
        if spec and any(len(n) > 6 or int(n) > MAX_FORMAT_WIDTH for n in _SPEC_NUMBER.findall(spec)):
            raise ValueError(f"Placeholder '{{{field_name}}}' asks for a width or precision above {MAX_FORMAT_WIDTH}")
        try:
            parts.append(format(value, spec or ""))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Cannot format placeholder '{{{field_name}}}': {exc}") from exc
    return "".join(parts)


def _lookup(values: dict[str, Any], field_name: str) -> tuple[bool, Any]:
    """Resolve `name`, `name[key]` or `name[0]`. Dotted names are plain keys (never getattr)."""
    if field_name in values:
        return True, values[field_name]
    match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])+)", field_name)
    if not match or match.group(1) not in values:
        return False, None
    value = values[match.group(1)]
    for key in re.findall(r"\[([^\[\]]*)\]", match.group(2)):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, (list, tuple)) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return False, None
    return True, value


# ---- conversions shared with other components ------------------------------------------

def clean_string(text: str) -> str:
    """Langflow's clean_string: blank out whitespace-only lines, cap runs of newlines at two."""
    text = re.sub(r"^\s*$", "", text, flags=re.MULTILINE)
    return re.sub(r"\n{3,}", "\n\n", text)


def markdown_table(rows: list[dict[str, Any]], *, clean: bool = False) -> str:
    """A pipe table like pandas' `to_markdown(index=False)`: numbers right-aligned."""
    if clean:
        rows = [row for row in rows if any(v not in (None, "") for v in row.values())]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if not columns:
        return ""
    cells = [[_cell(row.get(col), clean) for col in columns] for row in rows]
    numeric = [_numeric_column(rows, col) for col in columns]
    for i, is_numeric in enumerate(numeric):
        if is_numeric:  # align on the decimal point
            decimals = [len(r[i]) - r[i].find(".") if "." in r[i] else 0 for r in cells]
            for row_cells, places in zip(cells, decimals):
                row_cells[i] += " " * (max(decimals) - places)
    # tabulate keeps two spare characters beside each header
    widths = [max([len(str(col)) + 2, *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]

    def line(values: list[str]) -> str:
        padded = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else (":" + "-" * (w + 1)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line([str(c) for c in columns]), rule, *(line(row) for row in cells)])


def _numeric_column(rows: list[dict[str, Any]], column: str) -> bool:
    present = [row[column] for row in rows if row.get(column) is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)


def _cell(value: Any, clean: bool) -> str:
    if value is None:
        return ""
    text = format(value, "g") if isinstance(value, float) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if clean:
        text = re.sub(r"^\s*$", "", text, flags=re.MULTILINE)
        text = re.sub(r"\n+", "\n", text)
    # One table line per row; a pipe inside a cell would split the column.
    return text.strip("\n").replace("\n", "<br/>").replace("|", "\\|")


def stringify(value: Any, *, clean: bool = False) -> str:
    """Langflow's safe_convert: DataFrame → markdown table, Data → fenced JSON, text cleaned."""
    if isinstance(value, Message):
        return value.plain_text
    if isinstance(value, DataFrame):
        return markdown_table(value.rows, clean=clean)
    if isinstance(value, Data):
        body = json.dumps(value.data, indent=2, ensure_ascii=False, default=str)
        return clean_string(f"```json\n{body}\n```")
    return clean_string(value if isinstance(value, str) else str(value))


def data_to_message(data: Data) -> Message:
    """Data.to_message: its text when it has one, else the dict as Python prints it."""
    if data.text_key in data.data:
        return Message(text=data.text)
    return Message(text=str(data.data))


def data_to_frame(data: Data) -> DataFrame:
    """Data.to_dataframe: a lone list-of-dicts value becomes the rows, else one row."""
    values = list(data.data.values())
    if len(values) == 1 and isinstance(values[0], list) and all(isinstance(v, dict) for v in values[0]):
        return DataFrame(rows=[dict(v) for v in values[0]])
    return DataFrame(rows=[dict(data.data)])


def parse_structured_text(text: str) -> Data | None:
    """Type Convert's auto-parse: a JSON object, a JSON array of objects, or CSV; else None."""
    text = text.lstrip("\ufeff").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return Data(data=parsed)
    if isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed):
        return Data(data={"records": parsed})
    lines = text.split("\n")
    if len(lines) >= 2 and "," in lines[0]:
        return Data(data={"records": csv_rows(text)})
    return None


def csv_rows(text: str) -> list[dict[str, Any]]:
    """CSV text → row dicts, with numbers typed the way pandas' read_csv would. Cells beyond
    the header's columns are dropped."""
    reader = csv.DictReader(io.StringIO(text))
    return [{key: _typed(value) for key, value in row.items() if key is not None} for row in reader]


def _typed(value: str | None) -> Any:
    if value is None or value == "":
        return None
    if "_" in value:  # Python accepts 1_000 as a number; a CSV reader does not
        return value
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


# ---- components -------------------------------------------------------------------------

class ParserComponent(Component):
    type_name = "ParserComponent"
    aliases = ("parser",)
    display_name = "Parser"
    description = "Extracts text using a template."
    category = "processing"
    icon = "braces"
    inputs = (
        Input("input_data", "JSON or Table", "other", "", input_types=_TABLE_TYPES, required=True, input_kind="HandleInput"),
        Input("mode", "Mode", "tab", "Parser", options=("Parser", "Stringify"), input_kind="TabInput"),
        Input("pattern", "Template", "str", "Text: {text}", input_types=_MESSAGE, required=True, multiline=True, input_kind="MultilineInput"),
        Input("sep", "Separator", "str", "\n", input_types=_MESSAGE, advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("parsed_text", "parse_combined_text", ("Message",), "Parsed Text"),)

    async def parse_combined_text(self) -> Message:
        value = self.params.get("input_data")
        if to_text(self.param("mode", "Parser")) == "Stringify":
            clean = to_bool(self.param("clean_data", False))
            items = value if isinstance(value, list) else [value]
            text = "\n".join(stringify(item, clean=clean) for item in items)
            self.log(f"Converted to string with length: {len(text)}")
        else:
            pattern = to_text(self.param("pattern", ""))
            text = to_text(self.param("sep", "\n")).join(self._lines(value, pattern))
        self.status = text
        return Message(text=text)

    def _lines(self, value: Any, pattern: str) -> list[str]:
        if isinstance(value, DataFrame):
            def refuse(name: str) -> Any:
                columns = ", ".join(dict.fromkeys(k for row in value.rows for k in row)) or "none"
                raise ValueError(f"Template placeholder '{{{name}}}' is not a column of the table (columns: {columns})")

            return [render_template(pattern, row, refuse) for row in value.rows]
        return [
            render_template(pattern, item.data, lambda _name, d=item: d.default_value or "")
            for item in _as_data_items(value)
        ]


def _as_data_items(value: Any) -> list[Data]:
    """Parser input as Data items: Data, a list of Data/dicts, or a serialized Data dict."""
    if value is None or value == "":
        raise ValueError("Parser needs input data (a Data, a list of Data or a DataFrame)")
    if isinstance(value, Data):
        return [value]
    if isinstance(value, Message):
        return [Data(data={"text": value.plain_text})]
    if isinstance(value, dict):
        if isinstance(value.get("data"), dict):
            return [Data(data=value["data"], text_key=value.get("text_key", "text"))]
        return [Data(data=value)]
    if isinstance(value, list):
        items: list[Data] = []
        for item in value:
            items.extend(_as_data_items(item) if isinstance(item, (Data, dict, Message)) else [Data(data={"text": str(item)})])
        return items
    if isinstance(value, str):
        return [Data(data={"text": value})]
    raise ValueError(f"Unsupported input type: {type(value).__name__}. Expected DataFrame, Data, or list[Data].")


class ParseDataComponent(Component):
    type_name = "ParseData"
    display_name = "Data to Message"
    description = "Convert Data objects into Messages using any {field_name} from input data."
    category = "processing"
    icon = "message-square"
    inputs = (
        Input("data", "Data", "other", "", input_types=("Data",), required=True, is_list=True, input_kind="DataInput"),
        Input("template", "Template", "str", "{text}", input_types=_MESSAGE, required=True, multiline=True, input_kind="MultilineInput"),
        Input("sep", "Separator", "str", "\n", advanced=True, input_kind="StrInput"),
    )
    outputs = (
        Output("text", "parse_data", ("Message",), "Message"),
        Output("data_list", "parse_data_as_list", ("Data",), "Data List"),
    )

    async def parse_data(self) -> Message:
        sep = self.params.get("sep")
        text = ("\n" if sep is None else to_text(sep)).join(text for text, _ in self._formatted())
        self.status = text
        return Message(text=text)

    async def parse_data_as_list(self) -> list[Data]:
        out = []
        for text, item in self._formatted():
            out.append(Data(data={**item.data, item.text_key: text}, text_key=item.text_key, default_value=item.default_value))
        return out

    def _formatted(self) -> list[tuple[str, Data]]:
        template = to_text(self.param("template", "{text}"))
        result = []
        for item in _parse_data_items(self.params.get("data")):
            values = dict(item.data)
            if isinstance(item.data.get("data"), dict):
                values.update(item.data["data"])
            elif values.get("error"):
                values["text"] = values["error"]
            values["data"] = item.data
            result.append((render_template(template, values, lambda _name: ""), item))
        return result


def _parse_data_items(value: Any) -> list[Data]:
    if value is None or value == "":
        return []
    if isinstance(value, DataFrame):
        return [Data(data=dict(row)) for row in value.rows]
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, Data):
            out.append(item)
        elif isinstance(item, DataFrame):
            out.extend(Data(data=dict(row)) for row in item.rows)
        elif isinstance(item, Message):
            out.append(Data(data={"text": item.plain_text, "sender": item.sender, "sender_name": item.sender_name}))
        elif isinstance(item, dict):
            out.append(Data(data=item))
        else:
            out.append(Data(data={"text": str(item)}))
    return out


class SplitTextComponent(Component):
    type_name = "SplitText"
    display_name = "Split Text"
    description = "Split text into chunks based on specified criteria."
    category = "processing"
    icon = "scissors-line-dashed"
    inputs = (
        Input("data_inputs", "Input", "other", "", input_types=("Data", "DataFrame", "Message"), required=True, input_kind="HandleInput"),
        Input("chunk_overlap", "Chunk Overlap", "int", 200, input_kind="IntInput"),
        Input("chunk_size", "Chunk Size", "int", 1000, input_kind="IntInput"),
        Input("separator", "Separator", "str", "\n", input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("text_key", "Text Key", "str", "text", input_types=_MESSAGE, advanced=True, input_kind="MessageTextInput"),
        Input("keep_separator", "Keep Separator", "str", "False", options=("False", "True", "Start", "End"), advanced=True, input_kind="DropdownInput"),
        Input("clean_output", "Clean Output", "bool", False, advanced=True, input_kind="BoolInput",
              info="When enabled, only the text column is included in the output. Metadata columns are removed."),
    )
    # `dataframe` is what 1.13 exports; `chunks` (a list of Data) is kept for older flows.
    outputs = (
        Output("dataframe", "split_text", ("DataFrame",), "Chunks"),
        Output("chunks", "split_text_as_data", ("Data",), "Chunks"),
    )

    async def split_text(self) -> DataFrame:
        return DataFrame(rows=self._chunk_rows())

    async def split_text_as_data(self) -> list[Data]:
        # Older SplitText nodes (this `chunks` output) split whatever Data they were given:
        # nothing upstream (an empty directory, no URL loaded) gives no chunks, not an error.
        value = self.params.get("data_inputs")
        if value is None or (isinstance(value, (str, list)) and not value):
            return []
        return [Data(data=row) for row in self._chunk_rows()]

    def _chunk_rows(self) -> list[dict[str, Any]]:
        separator = _unescape(to_text(self.param("separator", "\n")))
        keep = to_text(self.param("keep_separator", "False")).strip().lower()
        splitter = CharacterSplitter(
            chunk_size=to_int(self.param("chunk_size", 1000), 1000),
            chunk_overlap=to_int(self.param("chunk_overlap", 200), 200),
            separator=separator,
            keep_separator={"false": False, "true": True, "": False}.get(keep, keep),
        )
        rows = []
        clean = to_bool(self.param("clean_output", False))
        for text, metadata in self._documents():
            for chunk in splitter.split(text):
                row = {} if clean else dict(metadata)
                row.setdefault("text", chunk)
                rows.append(row)
        return rows

    def _documents(self) -> list[tuple[str, dict[str, Any]]]:
        """(text, metadata) pairs, the text taken from the `text_key` column/key."""
        value = self.params.get("data_inputs")
        text_key = to_text(self.param("text_key", "text")) or "text"
        if isinstance(value, DataFrame):
            if not value.rows:
                raise ValueError("DataFrame is empty")
            return [_document(row, text_key, "") for row in value.rows]
        if isinstance(value, Message):
            return [(value.plain_text, {"sender": value.sender, "sender_name": value.sender_name})]
        if isinstance(value, Data):
            return [_document(value.data, text_key, value.default_value)]
        if not value:
            raise ValueError("No data inputs provided")
        items = value if isinstance(value, list) else [value]
        docs = [_document(item.data, item.text_key, item.default_value) for item in items if isinstance(item, Data)]
        docs += [(item.plain_text, {}) for item in items if isinstance(item, Message)]
        docs += [(item, {}) for item in items if isinstance(item, str)]
        if not docs:
            raise ValueError(f"No valid Data inputs found in {type(value).__name__}")
        return docs


def _document(data: dict[str, Any], text_key: str, default: str) -> tuple[str, dict[str, Any]]:
    metadata = dict(data)
    text = metadata.pop(text_key, default)
    return (text if isinstance(text, str) else str(text)), metadata


def _unescape(separator: str) -> str:
    """Separators typed in the UI: '/n' and '\\n' mean a newline, '/t' and '\\t' a tab."""
    separator = {"/n": "\n", "/t": "\t"}.get(separator, separator)
    return separator.replace("\\n", "\n").replace("\\t", "\t")


class CharacterSplitter:
    """LangChain's CharacterTextSplitter: split on a literal separator, then merge the pieces
    into chunks of at most `chunk_size` characters carrying up to `chunk_overlap` characters
    of the previous chunk. Pieces longer than `chunk_size` stay whole."""

    def __init__(self, chunk_size: int, chunk_overlap: int, separator: str, keep_separator: bool | str = False) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
        if chunk_overlap < 0:
            raise ValueError(f"chunk_overlap must be >= 0, got {chunk_overlap}")
        if chunk_overlap > chunk_size:
            raise ValueError(f"Got a larger chunk overlap ({chunk_overlap}) than chunk size ({chunk_size}), should be smaller.")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separator = separator
        self.keep_separator = keep_separator

    def split(self, text: str) -> list[str]:
        pieces = self._pieces(text)
        return self._merge(pieces, "" if self.keep_separator else self.separator)

    def _pieces(self, text: str) -> list[str]:
        if not self.separator:
            return [c for c in text if c]
        if not self.keep_separator:
            return [p for p in text.split(self.separator) if p]
        parts = re.split(f"({re.escape(self.separator)})", text)
        if self.keep_separator == "end":
            pieces = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)] + [parts[-1]]
        else:  # True and "start" put the separator at the start of the next piece
            pieces = [parts[0]] + [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)]
        return [p for p in pieces if p]

    def _merge(self, pieces: list[str], sep: str) -> list[str]:
        chunks: list[str] = []
        current: list[str] = []
        total = 0
        for piece in pieces:
            joiner = len(sep) if current else 0
            if total + len(piece) + joiner > self.chunk_size and current:
                self._emit(chunks, current, sep)
                # Drop pieces from the front until what is left fits as overlap.
                while total > self.chunk_overlap or (total > 0 and total + len(piece) + (len(sep) if current else 0) > self.chunk_size):
                    total -= len(current[0]) + (len(sep) if len(current) > 1 else 0)
                    current.pop(0)
            current.append(piece)
            total += len(piece) + (len(sep) if len(current) > 1 else 0)
        self._emit(chunks, current, sep)
        return chunks

    @staticmethod
    def _emit(chunks: list[str], current: list[str], sep: str) -> None:
        text = sep.join(current).strip()
        if text:
            chunks.append(text)


class TypeConverterComponent(Component):
    type_name = "TypeConverterComponent"
    aliases = ("TypeConverter",)
    display_name = "Type Convert"
    description = "Convert between different types (Message, Data, DataFrame)"
    category = "processing"
    icon = "repeat"
    inputs = (
        Input("input_data", "Input", "other", "", input_types=("Message", "Data", "DataFrame"), required=True, input_kind="HandleInput"),
        Input("auto_parse", "Auto Parse", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("output_type", "Output Type", "tab", "Message", options=("Message", "Data", "DataFrame"), input_kind="TabInput"),
    )
    # The export lists only the output matching `output_type`; all three are implemented.
    outputs = (
        Output("message_output", "convert_to_message", ("Message",), "Message Output"),
        Output("data_output", "convert_to_data", ("Data",), "Data Output"),
        Output("dataframe_output", "convert_to_dataframe", ("DataFrame",), "DataFrame Output"),
    )

    def _input(self) -> Any:
        value = self.params.get("input_data")
        if isinstance(value, list):
            value = value[0] if value else ""
        if value is None or isinstance(value, str):
            value = Message(text=value or "")
        return value

    def _parsed(self, message: Message) -> Data:
        data = Data(data={"text": message.plain_text})
        if to_bool(self.param("auto_parse", False)):
            return parse_structured_text(message.plain_text) or data
        return data

    async def convert_to_message(self) -> Message:
        value = self._input()
        if isinstance(value, Message):
            return value
        if isinstance(value, Data):
            return data_to_message(value)
        if isinstance(value, DataFrame):
            return Message(text=markdown_table(value.rows, clean=True))
        if isinstance(value, dict):
            return data_to_message(Data(data=value))
        return Message(text=to_text(value))

    async def convert_to_data(self) -> Data:
        value = self._input()
        if isinstance(value, Data):
            return value
        if isinstance(value, Message):
            return self._parsed(value)
        if isinstance(value, DataFrame):
            return Data(data={"results": value.to_list()})
        if isinstance(value, dict):
            return Data(data=value)
        return Data(data={"text": to_text(value)})

    async def convert_to_dataframe(self) -> DataFrame:
        value = self._input()
        if isinstance(value, DataFrame):
            return value
        if isinstance(value, Message):
            return data_to_frame(self._parsed(value))
        if isinstance(value, Data):
            return data_to_frame(value)
        if isinstance(value, dict):
            return DataFrame(rows=[value])
        return DataFrame(rows=[{"text": to_text(value)}])


class CombineTextComponent(Component):
    type_name = "CombineText"
    display_name = "Combine Text"
    description = "Concatenate two text sources into a single text chunk using a specified delimiter."
    category = "processing"
    icon = "merge"
    inputs = (
        Input("text1", "First Text", "str", "", input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("text2", "Second Text", "str", "", input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("delimiter", "Delimiter", "str", " ", input_types=_MESSAGE, input_kind="MessageTextInput"),
    )
    outputs = (Output("combined_text", "combine_texts", ("Message",), "Combined Text"),)

    async def combine_texts(self) -> Message:
        delimiter = self.params.get("delimiter")
        combined = ("" if delimiter is None else to_text(delimiter)).join(
            [to_text(self.param("text1", "")), to_text(self.param("text2", ""))]
        )
        self.status = combined
        return Message(text=combined)
