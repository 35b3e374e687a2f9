"""Small Langflow 1.13 helpers and legacy nodes: Condition (DataConditionalRouter), ID Generator,
Output Parser, Dynamic Create Data, Mock Data and the older Calculator tool (CalculatorTool)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_text
from flowless_engine.components.tools import ExpressionError, evaluate, format_number
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)


# ---- Condition (legacy): route Data by one key ---------------------------------------------------

DATA_OPERATORS = ("equals", "not equals", "contains", "starts with", "ends with", "boolean validator")
_TRUE_WORDS = {"true", "1", "yes", "y", "on"}


class DataConditionalRouterComponent(Component):
    """Both outputs answer the same value; the branch not taken is stopped. A list goes to `true`
    (the items meeting the condition) when any item does, else to `false` (the others); items
    lacking the key are dropped. One Data lacking the key answers an error Data on both."""

    type_name = "DataConditionalRouter"
    display_name = "Condition"
    description = "Route Data object(s) based on a condition applied to a specified key, including boolean validation."
    category = "flow_controls"
    icon = "split"
    inputs = (
        Input("data_input", "Data Input", "other", "", input_types=("Data", "JSON"), is_list=True,
              info="The Data object or list of Data objects to process", input_kind="JSONInput"),
        Input("key_name", "Key Name", "str", "", input_types=_MSG, info="The name of the key in the Data object(s) to check",
              input_kind="MessageTextInput"),
        Input("operator", "Operator", "str", "equals", options=DATA_OPERATORS,
              info="The operator to apply for comparing the values. 'boolean validator' treats the value as a boolean.",
              input_kind="DropdownInput"),
        Input("compare_value", "Match Text", "str", "", input_types=_MSG,
              info="The value to compare against (not used for boolean validator)", input_kind="MessageTextInput"),
    )
    outputs = (
        Output("true_output", "process_data", ("JSON",), "True Output"),
        Output("false_output", "process_data", ("JSON",), "False Output"),
    )

    async def process_data(self) -> Data | list[Data]:
        value = self.params.get("data_input")
        if isinstance(value, list):
            met: list[Data] = []
            unmet: list[Data] = []
            for item in value:
                if self._has_key(item):
                    (met if self._condition(item) else unmet).append(item)
            self.stop("false_output" if met else "true_output")
            return met or unmet
        if not self._has_key(value):
            return Data(data={"error": self.status})
        self.stop("false_output" if self._condition(value) else "true_output")
        return value

    def _has_key(self, item: Any) -> bool:
        key = to_text(self.params.get("key_name"))
        if not isinstance(item, Data):
            self.status = "Input is not a Data object"
            return False
        if key not in item.data:
            self.status = f"Key '{key}' not found in Data"
            return False
        return True

    def _condition(self, item: Data) -> bool:
        key = to_text(self.params.get("key_name"))
        actual = item.data[key]
        operator = to_text(self.param("operator", "equals")) or "equals"
        if operator == "boolean validator":
            met = actual if isinstance(actual, bool) else str(actual).lower() in _TRUE_WORDS if isinstance(actual, str) else bool(actual)
            described = f"Boolean validation of '{key}'"
        else:
            wanted = to_text(self.params.get("compare_value"))
            text = str(actual)
            met = {
                "equals": text == wanted, "not equals": text != wanted, "contains": wanted in text,
                "starts with": text.startswith(wanted), "ends with": text.endswith(wanted),
            }.get(operator, False)
            described = f"{key} {operator} {wanted}"
        self.status = f"Condition {'met' if met else 'not met'}: {described}"
        return met


# ---- ID Generator (legacy) -------------------------------------------------------------------------


class IDGeneratorComponent(Component):
    type_name = "IDGenerator"
    display_name = "ID Generator"
    description = "Generates a unique ID."
    category = "utilities"
    icon = "fingerprint"
    inputs = (Input("unique_id", "Value", "str", "", input_types=_MSG, info="The generated unique ID.", input_kind="MessageTextInput"),)
    outputs = (Output("id", "generate_id", ("Message",), "ID"),)

    async def generate_id(self) -> Message:
        """The node's value when it holds one (the UI fills it in), else a new UUID4."""
        unique_id = to_text(self.params.get("unique_id")).strip() or str(uuid.uuid4())
        self.status = f"Generated ID: {unique_id}"
        return Message(text=unique_id)


# ---- Output Parser (legacy) ------------------------------------------------------------------------

CSV_FORMAT_INSTRUCTIONS = "Your response should be a list of comma separated values, eg: `foo, bar, baz` or `foo,bar,baz`"


class CSVListParser:
    """The comma-separated list parser a model node's `output_parser` input receives."""

    format_instructions = CSV_FORMAT_INSTRUCTIONS

    def parse(self, text: str) -> list[str]:
        import csv
        import io

        rows = list(csv.reader(io.StringIO(text.strip()), skipinitialspace=True))
        return [cell.strip() for row in rows for cell in row if cell.strip()]

    def __repr__(self) -> str:
        return "CommaSeparatedListOutputParser()"


class OutputParserComponent(Component):
    type_name = "OutputParser"
    display_name = "Output Parser"
    description = "Transforms the output of an LLM into a specified format."
    category = "processing"
    icon = "type"
    inputs = (Input("parser_type", "Parser", "str", "CSV", options=("CSV",), input_kind="DropdownInput"),)
    outputs = (
        Output("format_instructions", "format_instructions", ("Message",), "Format Instructions"),
        Output("output_parser", "build_parser", ("OutputParser",), "Output Parser"),
    )

    def _check(self) -> None:
        if to_text(self.param("parser_type", "CSV")) != "CSV":
            raise ValueError("Unsupported or missing parser")

    async def build_parser(self) -> CSVListParser:
        self._check()
        return CSVListParser()

    async def format_instructions(self) -> Message:
        self._check()
        return Message(text=CSV_FORMAT_INSTRUCTIONS)


# ---- Dynamic Create Data ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """The simplest useful value of an input: a Message's text, a Data's content, plain values as is."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Message):
        return value.plain_text
    if isinstance(value, Data):
        return _plain(value.data)
    if isinstance(value, DataFrame):
        return [_plain(row) for row in value.rows]
    return str(value)


class DynamicCreateDataComponent(Component):
    """Each `form_fields` row (field_name, field_type) is a field `dynamic_<field_name>` of the node
    (typed or wired); the output holds `{field_name: value}`, unset fields as ""."""

    type_name = "DynamicCreateData"
    display_name = "Dynamic Create Data"
    description = "Dynamically create a Data with a specified number of fields."
    category = "processing"
    icon = "ListFilter"
    inputs = (
        Input("form_fields", "Input Configuration", "table", [], input_types=("DataFrame", "Table"),
              info="Define the dynamic form fields. Each row creates a new input field that can connect to other components.",
              input_kind="TableInput"),
        Input("include_metadata", "Include Metadata", "bool", False, advanced=True,
              info="Include form configuration metadata in the output.", input_kind="BoolInput"),
    )
    outputs = (
        Output("form_data", "process_form", ("JSON",), "JSON"),
        Output("message", "get_message", ("Message",), "Message"),
    )

    def _values(self) -> dict[str, Any]:
        rows = self.params.get("form_fields")
        if isinstance(rows, DataFrame):
            rows = rows.rows
        values: dict[str, Any] = {}
        connected = 0
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not row.get("field_name"):
                continue
            name = str(row["field_name"])
            value = self.params.get(f"dynamic_{name}")
            if value is None:
                values[name] = ""
                continue
            connected += isinstance(value, (Message, Data, DataFrame))
            values[name] = _plain(value)
        self.status = f"Form processed successfully. {connected}/{len(values)} fields connected to components."
        return values

    async def process_form(self) -> Data:
        return Data(data=self._values())

    async def get_message(self) -> Message:
        values = self._values()
        if not values:
            return Message(text="No form data available")
        rule = "=" * 40
        lines = ["📋 Form Data:", rule, *(f"• {name}: {value}" for name, value in values.items()), rule, f"Total fields: {len(values)}"]
        return Message(text="\n".join(lines))


# ---- Mock Data -------------------------------------------------------------------------------------

_LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
    "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.",
    "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Frances", "Dennis")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds", "Allen", "Ritchie")
_CITIES = (("Lisbon", "Portugal"), ("Osaka", "Japan"), ("Toronto", "Canada"), ("Lyon", "France"), ("Austin", "USA"),
           ("Pune", "India"), ("Leeds", "UK"), ("Perth", "Australia"), ("Recife", "Brazil"), ("Leipzig", "Germany"))
_PRODUCTS = ("Starter Plan", "Team Plan", "Enterprise Plan", "Support Pack", "Training Day", "Add-on Seats")
_COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries")
_DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Operations", "Support")
_STATUSES = ("active", "pending", "completed", "cancelled", "in_progress")
_TAGS = ("important", "urgent", "review", "approved", "draft", "final")
_AGE_GROUPS = ((25, "18-25"), (35, "26-35"), (50, "36-50"), (65, "51-65"))


class MockDataGeneratorComponent(Component):
    """Sample data for trying flows out: a 50-row customer-orders table, one JSON record with a
    summary, or a paragraph of Lorem Ipsum. Values are random on each run."""

    type_name = "MockDataGenerator"
    display_name = "Mock Data"
    description = "Generate mock data for testing and development."
    category = "data_source"
    icon = "database"
    inputs = ()
    outputs = (
        Output("dataframe_output", "generate_dataframe_output", ("Table",), "Result"),
        Output("message_output", "generate_message_output", ("Message",), "Result"),
        Output("data_output", "generate_data_output", ("JSON",), "Result"),
    )
    table_rows = 50

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.random = random.Random()

    async def generate_message_output(self) -> Message:
        text = " ".join(self.random.sample(_LOREM, 2))
        self.status = f"Generated Lorem Ipsum message ({len(text)} characters)"
        return Message(text=text)

    async def generate_data_output(self) -> Data:
        pick, since = self.random.choice, datetime.now(timezone.utc) - timedelta(days=365)
        records = [{
            "id": f"REC-{1000 + i}", "name": f"Sample Record {i + 1}", "company": pick(_COMPANIES),
            "department": pick(_DEPARTMENTS), "status": pick(_STATUSES), "category": pick("ABCD"),
            "value": round(self.random.uniform(100, 10_000), 2), "quantity": self.random.randint(1, 100),
            "rating": round(self.random.uniform(1, 5), 1), "is_active": self.random.random() < 0.5,
            "created_date": (since + timedelta(days=self.random.randint(0, 365))).isoformat(),
            "tags": [pick(_TAGS) for _ in range(self.random.randint(1, 3))],
        } for i in range(1)]
        summary = {
            "total_count": len(records), "active_count": sum(r["is_active"] for r in records),
            "total_value": round(sum(r["value"] for r in records), 2),
            "average_rating": round(sum(r["rating"] for r in records) / len(records), 2),
            "categories": sorted({r["category"] for r in records}), "companies": sorted({r["company"] for r in records}),
        }
        self.status = f"Generated JSON data with {len(records)} record(s)"
        return Data(data={"records": records, "summary": summary})

    async def generate_dataframe_output(self) -> DataFrame:
        pick, since = self.random.choice, datetime.now(timezone.utc) - timedelta(days=365)
        rows = []
        for i in range(self.table_rows):
            first, last = pick(_FIRST), pick(_LAST)
            city, country = pick(_CITIES)
            age = self.random.randint(18, 80)
            value = round(self.random.uniform(10, 1000), 2)
            quantity = self.random.randint(1, 10)
            discount = round(self.random.randint(0, 30) / 100, 2)
            discounted = round(value * (1 - discount), 2)
            rows.append({
                "customer_id": f"CUST-{10000 + i}", "first_name": first, "last_name": last, "email": f"user{i + 1}@example.com",
                "age": age, "city": city, "country": country, "product": pick(_PRODUCTS),
                "order_date": (since + timedelta(days=self.random.randint(0, 365))).strftime("%Y-%m-%d"),
                "order_value": value, "quantity": quantity, "discount": discount, "is_premium": self.random.random() < 0.5,
                "satisfaction_score": self.random.randint(1, 10),
                "last_contact": (since + timedelta(days=self.random.randint(0, 365))).strftime("%Y-%m-%d"),
                "full_name": f"{first} {last}", "discounted_value": discounted, "total_value": round(discounted * quantity, 2),
                "age_group": next((label for bound, label in _AGE_GROUPS if age <= bound), "65+"),
            })
        return DataFrame(rows=rows)


# ---- Calculator tool (legacy) ----------------------------------------------------------------------


class CalculatorToolComponent(Component):
    """The pre-1.1 Calculator: `api_run_model` gives [Data] (result or error), `api_build_tool` a
    `calculator` tool for an Agent."""

    type_name = "CalculatorTool"
    display_name = "Calculator"
    description = "Perform basic arithmetic operations on a given expression."
    category = "tools"
    icon = "calculator"
    inputs = (
        Input("expression", "Expression", "str", "", input_types=_MSG,
              info="The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').", input_kind="MessageTextInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("JSON",), "JSON"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
    )

    async def run_model(self) -> list[Data]:
        return [self._calculate(to_text(self.param("expression", "")))]

    async def build_tool(self) -> list[Tool]:
        return self.as_tools()

    def _calculate(self, expression: str) -> Data:
        try:
            result = format_number(evaluate(expression))
        except ZeroDivisionError:
            data = Data(data={"error": "Error: Division by zero", "input": expression})
        except ExpressionError as exc:
            data = Data(data={"error": f"Invalid expression: {exc}", "input": expression})
        else:
            data = Data(data={"result": result})
        self.status = data.data.get("result") or data.data.get("error")
        return data

    def as_tools(self) -> list[Tool]:
        name, description = self.tool_metadata("calculator", "Evaluate basic arithmetic expressions. Input should be a string containing the expression.")

        async def run(arguments: dict[str, Any]) -> str:
            return json.dumps([self._calculate(str(arguments.get("expression", ""))).data])

        parameters = {"type": "object", "properties": {"expression": {"type": "string", "description": "The arithmetic expression to evaluate."}},
                      "required": ["expression"]}
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]



# ---- Merge Flows -----------------------------------------------------------------------------------


class MergeFlowsComponent(Component):
    """A join point: everything wired into `inputs` runs first; the answer counts them."""

    type_name = "MergeFlows"
    display_name = "Merge Flows"
    description = "Merges multiple flows into one. Running this triggers all connected upstream flows."
    category = "files_ingestion"
    icon = "git-merge"
    inputs = (
        Input("inputs", "Inputs", "other", "", input_types=("Data", "DataFrame", "Message", "Tool", "JSON", "Table"), is_list=True,
              info="Connect any upstream component outputs here. All will run when this component executes.", input_kind="HandleInput"),
    )
    outputs = (Output("done", "run", ("Message",), "Done"),)

    async def run(self) -> Message:
        value = self.params.get("inputs")
        count = len(value) if isinstance(value, list) else (1 if value not in (None, "") else 0)
        return Message(text=f"Merged {count} flows")
