"""Flow control: Loop (items out one by one through its body, results gathered on `done`).

The iteration itself is done by the scheduler (runtime/run.py `run_loop_body`), which knows the
loop's body; the component normalises the input, bounds the number of items and shapes results.
"""

from __future__ import annotations

import re
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_data_list, to_text
from flowless_engine.errors import FlowError, LimitExceededError
from flowless_engine.schema import Data, DataFrame, Message


def loop_items(value: Any) -> list[Data]:
    """The loop's input as Data items: Table rows, Data, Messages (their text), lists of these."""
    if isinstance(value, Message):
        return [Data(data={"text": value.plain_text})]
    if isinstance(value, list):
        return [item for v in value for item in loop_items(v)]
    return to_data_list(value)


def result_row(value: Any) -> dict[str, Any]:
    """One iteration's fed-back value as a row of the `done` table (Langflow's Data of it)."""
    if isinstance(value, Message):
        from flowless_engine.runtime.results import serialize_message

        return dict(serialize_message(value)["data"])
    if isinstance(value, Data):
        return dict(value.data)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list) and all(isinstance(v, Data) for v in value) and value:
        return dict(value[0].data) if len(value) == 1 else {"items": [v.data for v in value]}
    return {"text": "" if value is None else str(value)}


class LoopComponent(Component):
    type_name = "LoopComponent"
    display_name = "Loop"
    description = "Iterates through Data or Message objects, processing items individually and aggregating results from loop inputs."
    category = "flow_controls"
    icon = "infinity"
    is_loop = True
    inputs = (
        Input("data", "Inputs", "other", "", input_types=("DataFrame", "Table", "Data", "Message"),
              info="Data to iterate over. Accepts DataFrame, Table, Data, or Message.", input_kind="HandleInput"),
    )
    outputs = (
        Output("item", "item_output", ("Data", "JSON"), "Item"),
        Output("done", "done_output", ("DataFrame", "Table"), "Done"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._aggregated: list[dict[str, Any]] | None = None
        self.run_body: Any = None  # set by the scheduler

    def _items(self) -> list[Data]:
        items = loop_items(self.params.get("data"))
        limit = self.ctx.settings.max_loop_iterations
        if len(items) > limit:
            raise LimitExceededError(f"Loop '{self.name}' has {len(items)} items; the limit is {limit} iterations")
        return items

    async def _iterate(self) -> list[dict[str, Any]]:
        if self._aggregated is not None:
            return self._aggregated
        items = self._items()
        self.log(f"Starting loop over {len(items)} item(s)", name="Start")
        from flowless_engine.runtime.loops import LOOP_BREAK

        rows = []
        for index, item in enumerate(items):
            value = await self.run_body(item) if self.run_body is not None else None
            if value is LOOP_BREAK:
                self.log(f"Stopped at item {index + 1} of {len(items)}: the branch feeding back into the loop was not taken", name="Stopped")
                break
            if isinstance(value, Message):
                await value.resolve()
            rows.append(result_row(value))
        self.log(f"Completed {len(rows)} iteration(s)", name="Complete")
        self._aggregated = rows
        return rows

    async def item_output(self) -> Data:
        self.stop("item")  # the body ran inside the loop: nothing downstream of `item` runs again
        await self._iterate()  # once: `done` reads the same results
        items = self._items()
        return Data(data={"count": len(items), "items": [d.data for d in items]})

    async def done_output(self) -> DataFrame:
        self.stop("item")
        return DataFrame(rows=await self._iterate())


# ---- flows calling flows ------------------------------------------------------------------------

IOPUT_SEP = "~"  # Langflow's "<vertex id>~<field or output>" names of Run Flow's dynamic fields


async def run_subflow(component: Component, ref: str, tweaks: dict[str, dict[str, Any]], session_id: str = "") -> Any:
    """Run another flow of the same tenant (by id, name or endpoint name) with `tweaks`; returns
    the RunResult. Depth-limited; the sub-run shares the parent's services but not its events."""
    from flowless_engine.errors import ConfigurationError
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import InMemoryMessageStore

    ctx = component.ctx
    if not ref:
        raise ConfigurationError(f"{component.name}: no flow is selected")
    if ctx.flows is None:
        raise ConfigurationError(f"{component.name}: other flows cannot be run here (no flow store)")
    limit = ctx.settings.max_flow_depth
    if ctx.flow_depth >= limit:
        raise LimitExceededError(f"{component.name}: flows may call flows at most {limit} levels deep")
    exported = await ctx.flows.get(ref)
    if exported is None:
        raise ConfigurationError(f"{component.name}: flow '{ref}' not found")
    graph = load_graph(exported)
    sub = RunContext(
        flow_id=graph.flow_id, session_id=session_id or ctx.session_id, flow_name=graph.flow_name, user_id=ctx.user_id,
        messages=InMemoryMessageStore(), variables=ctx.variables, files=ctx.files, settings=ctx.settings,
        request_variables=ctx.request_variables, model_factory=ctx.model_factory, http_client=ctx.http_client,
        vectors=ctx.vectors, knowledge=ctx.knowledge, embeddings=ctx.embeddings, flows=ctx.flows, flow_depth=ctx.flow_depth + 1,
        code_runner=ctx.code_runner, tenant=ctx.tenant,  # the sub-flow's code: the tenant's approvals, the same sandbox
    )
    request = RunRequest(tweaks=tweaks or None, session_id=session_id or None, output_type="any")
    return await run_graph(graph, request, sub)


def _keyed(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{"ChatInput-x~input_value": v}` → `{"ChatInput-x": {"input_value": v}}` (values as text
    when they are messages, as tweaks carry them)."""
    tweaks: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        if IOPUT_SEP not in name:
            continue
        vertex_id, field = name.split(IOPUT_SEP, 1)
        if isinstance(value, Message):
            value = value.plain_text
        elif isinstance(value, Data):
            value = value.text
        tweaks.setdefault(vertex_id, {})[field] = value
    return tweaks


def _output_text(value: Any) -> str:
    from flowless_engine.components.toolmode import tool_result_text

    return tool_result_text(value)


class RunFlowComponent(Component):
    type_name = "RunFlow"
    display_name = "Run Flow"
    description = "Executes another flow from within the same project. Can also be used as a tool for agents."
    category = "flow_controls"
    icon = "Workflow"
    inputs = (
        Input("flow_name_selected", "Flow Name", "str", None, info="The name of the flow to run.", input_kind="DropdownInput"),
        Input("flow_id_selected", "Flow ID", "str", None, info="The ID of the flow to run.", input_kind="StrInput"),
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, info="The session ID to run the flow in.", input_kind="MessageTextInput"),
        Input("cache_flow", "Cache Flow", "bool", False, advanced=True, info="Whether to cache the flow.", input_kind="BoolInput"),
    )
    # One output per output vertex of the selected flow (`<vertex id>~<output>`): read from the
    # node; without a selected flow, only its tool mode.
    outputs = (Output("component_as_tool", "to_toolkit", ("Tool",), "Toolset"),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declared = tuple(Output(o["name"], "resolve_output", tuple(o.get("types") or ("Message",)), o.get("display_name") or "")
                         for o in self.vertex.outputs if isinstance(o, dict) and o.get("name") and o["name"] != "component_as_tool")
        if declared:
            self.outputs = declared
        self._result: Any = None

    def _ref(self) -> str:
        return to_text(self.params.get("flow_id_selected")).strip() or to_text(self.params.get("flow_name_selected")).strip()

    async def _run(self) -> Any:
        if self._result is None:
            self._result = await run_subflow(self, self._ref(), _keyed(self.params), to_text(self.params.get("session_id")).strip())
        return self._result

    async def resolve_output(self) -> Any:
        result = await self._run()
        vertex_id, _, output = self._current_output.partition(IOPUT_SEP)
        built = result.all_results.get(vertex_id)
        if built is None:
            return None
        return built.values.get(output, next(iter(built.values.values()), None))

    def as_tools(self) -> list[Any]:
        from flowless_engine.components.base import Tool

        fields = [n for n, spec in self.vertex.fields.items() if IOPUT_SEP in n and not spec.get("advanced")]
        name, description = self.tool_metadata(re.sub(r"[^A-Za-z0-9_-]", "_", to_text(self.params.get("flow_name_selected")) or "run_flow")[:64],
                                               f"Run the flow '{to_text(self.params.get('flow_name_selected')) or self._ref()}'.")
        properties = {f: {"type": "string", "description": to_text(self.vertex.fields[f].get("display_name")) or f} for f in fields}

        async def run(arguments: dict[str, Any]) -> str:
            params = {**self.params, **{k: v for k, v in (arguments or {}).items() if k in properties}}
            try:
                result = await run_subflow(self, self._ref(), _keyed(params), to_text(self.params.get("session_id")).strip())
            except FlowError as exc:
                return f"Error: {exc.message}"
            texts = [_output_text(v) for r in result.results for v in r.values.values()]
            return "\n".join(t for t in texts if t)

        return [Tool(name=name, description=description, parameters={"type": "object", "properties": properties}, run=run, source_id=self.id)]


class SubFlowComponent(Component):
    type_name = "SubFlow"
    display_name = "Sub Flow"
    description = "Generates a Component from a Flow, with all of its inputs, and "
    category = "flow_controls"
    icon = "Workflow"
    inputs = (Input("flow_name", "Flow Name", "str", "", info="The name of the flow to run.", input_kind="DropdownInput"),)
    outputs = (Output("flow_outputs", "generate_results", ("JSON",), "Flow Outputs"),)

    async def generate_results(self) -> list[Data]:
        result = await run_subflow(self, to_text(self.params.get("flow_name")).strip(), _keyed(self.params))
        rows = []
        for built in result.results:
            for value in built.values.values():
                if isinstance(value, Message):
                    rows.append(Data(data={"text": value.plain_text, "sender": value.sender, "sender_name": value.sender_name}))
                elif isinstance(value, Data):
                    rows.append(value)
                elif value is not None:
                    rows.append(Data(data={"text": _output_text(value)}))
        return rows


class FlowToolComponent(Component):
    type_name = "FlowTool"
    display_name = "Flow as Tool"
    description = "Construct a Tool from a function that runs the loaded Flow."
    category = "flow_controls"
    icon = "hammer"
    inputs = (
        Input("flow_name", "Flow Name", "str", "", info="The name of the flow to run.", input_kind="DropdownInput"),
        Input("tool_name", "Name", "str", "", info="The name of the tool.", input_kind="StrInput"),
        Input("tool_description", "Description", "str", "", info="The description of the tool.", input_kind="StrInput"),
        Input("return_direct", "Return Direct", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("api_build_tool", "build_tool", ("Tool",), "Tool"),)

    async def build_tool(self) -> list[Any]:
        return self.as_tools()

    def as_tools(self) -> list[Any]:
        from flowless_engine.components.base import Tool

        flow_name = to_text(self.params.get("flow_name")).strip()
        name = re.sub(r"[^A-Za-z0-9_-]", "_", to_text(self.params.get("tool_name")).strip() or flow_name or "flow_tool")[:64]
        description = to_text(self.params.get("tool_description")).strip() or f"Runs the flow '{flow_name}'."

        async def run(arguments: dict[str, Any]) -> str:
            from flowless_engine.graph.loader import load_graph

            exported = await self.ctx.flows.get(flow_name) if self.ctx.flows is not None else None
            tweaks: dict[str, dict[str, Any]] = {}
            if exported is not None:
                graph = load_graph(exported)
                inputs = [v.id for v in graph.vertices.values() if v.is_input and "input_value" in v.fields]
                tweaks = {vid: {"input_value": to_text(arguments.get("input_value", ""))} for vid in inputs}
            try:
                result = await run_subflow(self, flow_name, tweaks)
            except FlowError as exc:
                return f"Error: {exc.message}"
            texts = [_output_text(v) for r in result.results for v in r.values.values()]
            return "\n".join(t for t in texts if t)

        parameters = {"type": "object", "properties": {"input_value": {"type": "string", "description": "The input to the flow."}}, "required": ["input_value"]}
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]


# ---- Notify / Listen ----------------------------------------------------------------------------


class NotifyComponent(Component):
    type_name = "Notify"
    display_name = "Notify"
    description = "A component to generate a notification to Get Notified component."
    category = "flow_controls"
    icon = "Notify"
    state_role = "notify"  # the scheduler runs Listen nodes of the same key after this one
    inputs = (
        Input("context_key", "Context Key", "str", "", required=True, info="The key of the context to store the notification.", input_kind="StrInput"),
        Input("input_value", "Input Data", "other", "", input_types=("Data", "JSON", "Message", "DataFrame", "Table"),
              info="The data to store.", input_kind="HandleInput"),
        Input("append", "Append", "bool", False, info="If True, the record will be appended to the notification.", input_kind="BoolInput"),
    )
    outputs = (Output("result", "notify_components", ("JSON",), "JSON"),)

    async def notify_components(self) -> Data:
        value = self.params.get("input_value")
        if isinstance(value, Message):
            value = Data(data={"text": await value.resolve()})
        elif isinstance(value, DataFrame):
            value = Data(data={"rows": value.rows})
        elif isinstance(value, dict):
            value = Data(data=value)
        elif not isinstance(value, Data):
            value = Data(data={"text": "" if value is None else to_text(value)})
        key = to_text(self.params.get("context_key"))
        from flowless_engine.components.base import to_bool

        if to_bool(self.param("append", False)):
            current = self.ctx.state.get(key, [])
            self.ctx.state[key] = (current if isinstance(current, list) else [current]) + [value]
        else:
            self.ctx.state[key] = value
        self.status = value
        return value


class ListenComponent(Component):
    type_name = "Listen"
    display_name = "Listen"
    description = "A component to listen for a notification."
    category = "flow_controls"
    icon = "Radio"
    state_role = "listen"
    inputs = (Input("context_key", "Context Key", "str", "", input_types=("Message",), required=True,
                    info="The key of the context to listen for.", input_kind="StrInput"),)
    outputs = (Output("data", "listen_for_data", ("JSON",), "JSON"),)

    async def listen_for_data(self) -> Data | list[Data]:
        return self.ctx.state.get(to_text(self.params.get("context_key")), Data(data={"text": ""}))
