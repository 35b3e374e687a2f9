"""Older agent and chain nodes: Tool Calling Agent, OpenAI Tools Agent, ConversationChain, and
CrewAI's agents, tasks and crews. All run on the Agent component's own tool loop (agent.py) — no
LangChain or CrewAI — with the semantics those nodes have in Langflow: a crew runs its tasks in
order, each by its agent (role, goal and backstory as the agent's persona), with the earlier
tasks' results as context; a hierarchical crew has a manager that delegates each task to its
coworkers through tools."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flowless_engine.components.agent import AgentComponent
from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_text
from flowless_engine.components.models import resolve_model_config
from flowless_engine.errors import ComponentError, ConfigurationError, ProviderError
from flowless_engine.schema import Data, Message

_MESSAGE = ("Message",)
_ROLES = {"User": "user", "Machine": "assistant", "user": "user", "assistant": "assistant", "AI": "assistant"}
_WATSONX_URLS = (
    "https://us-south.ml.cloud.ibm.com", "https://eu-de.ml.cloud.ibm.com", "https://eu-gb.ml.cloud.ibm.com",
    "https://au-syd.ml.cloud.ibm.com", "https://jp-tok.ml.cloud.ibm.com", "https://ca-tor.ml.cloud.ibm.com",
)


def _model_inputs() -> tuple[Input, ...]:
    """The 1.13 model selector every agent node carries (watsonx's URL and project included)."""
    return (
        Input("model", "Language Model", "model", "", input_types=("LanguageModel",), required=True, input_kind="ModelInput"),
        Input("api_key", "API Key", value="", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("base_url_ibm_watsonx", "watsonx API Endpoint", value=_WATSONX_URLS[0], options=_WATSONX_URLS, input_kind="DropdownInput"),
        Input("project_id", "watsonx Project ID", value="", input_kind="StrInput"),
    )


def _loop_inputs() -> tuple[Input, ...]:
    return (
        Input("max_iterations", "Max Iterations", "int", 15, advanced=True, input_kind="IntInput"),
        Input("handle_parsing_errors", "Handle Parse Errors", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("verbose", "Verbose", "bool", True, advanced=True, input_kind="BoolInput"),
    )


async def wired_model_config(component: Component, handle: str = "llm") -> Any:
    """The model of a node: a model component wired into `handle` (≤1.4 exports), else the
    1.13 `model` selector."""
    from flowless_engine.llm.base import ModelConfig

    wired = component.params.get(handle)
    if isinstance(wired, ModelConfig):
        return wired
    return await resolve_model_config(component)


def history_messages(value: Any) -> list[Any]:
    """Chat history handed in as Messages or Data rows (a Memory node's output) → chat turns."""
    from flowless_engine.llm.base import ChatMessage

    items = value if isinstance(value, (list, tuple)) else [value] if value else []
    turns = []
    for item in items:
        if isinstance(item, Message):
            sender, text = item.sender, item.plain_text
        elif isinstance(item, Data):
            sender, text = str(item.data.get("sender", "User")), item.text or to_text(item.data.get("text"))
        else:
            continue
        turns.append(ChatMessage(role=_ROLES.get(sender, "user"), content=text))
    return turns


@dataclass
class AgentExecutor:
    """What the `agent` output hands on: the configured agent, run by `run(text)`."""

    node: "_ToolsAgent"

    async def run(self, text: str) -> str:
        return await self.node.answer(text)


class _ToolsAgent(AgentComponent):
    """A LangChain-era tools agent: system prompt, optional chat history input, tools, one answer."""

    category = "langchain_utilities"
    icon = "LangChain"
    outputs = (
        Output("response", "message_response", ("Message",), "Response"),
        Output("agent", "build_agent", ("AgentExecutor",), "Agent"),
    )

    def _user_text(self, text: str) -> str:
        return text

    async def answer(self, text: str) -> str:
        from flowless_engine.llm.base import ChatMessage

        config = await wired_model_config(self)
        messages = []
        system = to_text(self.param("system_prompt"))
        if system:
            messages.append(ChatMessage(role="system", content=system))
        messages.extend(history_messages(self.params.get("chat_history")))
        messages.append(ChatMessage(role="user", content=self._user_text(text)))
        return await self._loop(self.ctx.chat_model(config), messages, self._tools())

    async def message_response(self) -> Message:
        user = self.params.get("input_value")
        if isinstance(user, Message):
            await user.resolve()
        text = await self.answer(to_text(user))
        message = Message(text=text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id, properties={"source": {"id": self.id, "display_name": self.name, "source": self.name}})
        message.usage = self.usage
        return message

    async def build_agent(self) -> AgentExecutor:
        return AgentExecutor(self)


class ToolCallingAgentComponent(_ToolsAgent):
    type_name = "ToolCallingAgent"
    display_name = "Tool Calling Agent"
    description = "An agent designed to utilize various tools seamlessly within workflows."
    inputs = (
        *_model_inputs(),
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True, input_kind="HandleInput"),
        Input("system_prompt", "System Prompt", value="You are a helpful assistant that can use tools to answer questions and perform tasks.", input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("chat_history", "Chat Memory", "other", "", input_types=("Data", "JSON"), is_list=True, advanced=True, input_kind="JSONInput"),
        # ≤1.4 exports wire a model component here instead of the selector
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
    )


class OpenAIToolsAgentComponent(_ToolsAgent):
    type_name = "OpenAIToolsAgent"
    display_name = "OpenAI Tools Agent"
    description = "Agent that uses tools via openai-tools."
    inputs = (
        *_model_inputs(),
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True, input_kind="HandleInput"),
        Input("system_prompt", "System Prompt", value="You are a helpful assistant", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput"),
        Input("user_prompt", "Prompt", value="{input}", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput",
              info="This prompt must contain 'input' key."),
        Input("chat_history", "Chat History", "other", "", input_types=("Data", "JSON"), is_list=True, advanced=True, input_kind="JSONInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
    )

    def _user_text(self, text: str) -> str:
        prompt = to_text(self.param("user_prompt", "{input}")) or "{input}"
        if "{input}" not in prompt:
            raise ComponentError(self.id, self.name, "the Prompt must contain '{input}'")
        return prompt.replace("{input}", text)


class ConversationChainComponent(Component):
    type_name = "ConversationChain"
    display_name = "ConversationChain"
    description = "Chain to have a conversation and load context from memory."
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("input_value", "Input", value="", multiline=True, required=True, input_types=_MESSAGE, input_kind="MultilineInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), required=True, input_kind="HandleInput"),
        Input("memory", "Memory", "other", "", input_types=("BaseChatMemory",), input_kind="HandleInput"),
    )
    outputs = (Output("text", "invoke_chain", ("Message",), "Text"),)

    async def invoke_chain(self) -> Message:
        from flowless_engine.llm.base import ChatMessage

        config = await wired_model_config(self)
        user = self.params.get("input_value")
        if isinstance(user, Message):
            await user.resolve()
        memory = self.params.get("memory")
        history = await memory.get_messages() if hasattr(memory, "get_messages") else memory
        messages = [*history_messages(history), ChatMessage(role="user", content=to_text(user))]
        result = await self.ctx.chat_model(config).complete(messages)
        self.add_usage(result.usage)
        message = Message(text=result.text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)
        message.usage = self.usage
        return message


# ---- CrewAI ----------------------------------------------------------------------------------


@dataclass
class CrewAgent:
    role: str
    goal: str
    backstory: str
    model: Any  # ModelConfig, or None for the crew's / the settings' default
    tools: list[Tool] = field(default_factory=list)
    allow_delegation: bool = False

    def persona(self) -> str:
        return f"You are {self.role}.\n{self.backstory}\nYour personal goal is: {self.goal}".strip()


@dataclass
class CrewTask:
    description: str
    expected_output: str
    agent: CrewAgent | None
    tools: list[Tool] = field(default_factory=list)


def _tools(value: Any) -> list[Tool]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [tool for tool in items if isinstance(tool, Tool)]


def _flatten(value: Any, kind: type) -> list[Any]:
    """Items of `kind` in a (nested) list, each once, in order: a chain of tasks can reach a crew
    both through its last task and through earlier ones."""
    out: list[Any] = []

    def walk(item: Any) -> None:
        if isinstance(item, (list, tuple)):
            for inner in item:
                walk(inner)
        elif isinstance(item, kind) and all(item is not seen for seen in out):
            out.append(item)

    walk(value)
    return out


def _tasks(value: Any) -> list[CrewTask]:
    return _flatten(value, CrewTask)


def _agent_inputs(*, allow_delegation: bool, verbose: bool) -> tuple[Input, ...]:
    return (
        Input("role", "Role", value="", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput", info="The role of the agent."),
        Input("goal", "Goal", value="", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput", info="The objective of the agent."),
        Input("backstory", "Backstory", value="", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput", info="The backstory of the agent."),
        Input("tools", "Tools", "other", [], input_types=("Tool",), is_list=True, input_kind="HandleInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), input_kind="HandleInput"),
        Input("memory", "Memory", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("verbose", "Verbose", "bool", verbose, advanced=True, input_kind="BoolInput"),
        Input("allow_delegation", "Allow Delegation", "bool", allow_delegation, advanced=not allow_delegation, input_kind="BoolInput"),
        # Never honoured: an agent that runs code it wrote is the custom-code sandbox's business.
        Input("allow_code_execution", "Allow Code Execution", "bool", False, advanced=True, input_kind="BoolInput"),
    )


class _CrewAgentBuilder(Component):
    category = "crewai"
    icon = "CrewAI"

    def crew_agent(self) -> CrewAgent:
        if to_bool(self.param("allow_code_execution", False)):
            raise ComponentError(self.id, self.name, "Allow Code Execution is not supported: agents never execute the code they write")
        from flowless_engine.llm.base import ModelConfig

        model = self.params.get("llm")
        return CrewAgent(
            role=to_text(self.param("role")),
            goal=to_text(self.param("goal")),
            backstory=to_text(self.param("backstory")),
            model=model if isinstance(model, ModelConfig) else None,
            tools=_tools(self.params.get("tools")),
            allow_delegation=to_bool(self.param("allow_delegation", False)),
        )


class CrewAIAgentComponent(_CrewAgentBuilder):
    type_name = "CrewAIAgentComponent"
    display_name = "CrewAI Agent"
    description = "Represents an agent of CrewAI."
    inputs = (
        *_agent_inputs(allow_delegation=True, verbose=False),
        Input("kwargs", "kwargs", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
    )
    outputs = (Output("output", "build_output", ("Agent",), "Agent"),)

    async def build_output(self) -> CrewAgent:
        return self.crew_agent()


def _task_fields() -> tuple[Input, ...]:
    return (
        Input("task_description", "Description", value="", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput"),
        Input("expected_output", "Expected Output", value="", multiline=True, input_types=_MESSAGE, input_kind="MultilineInput"),
    )


class SequentialTaskComponent(Component):
    type_name = "SequentialTaskComponent"
    display_name = "Sequential Task"
    description = "Each task must have a description, an expected output and an agent responsible for execution."
    category = "crewai"
    icon = "CrewAI"
    inputs = (
        *_task_fields(),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True, advanced=True, input_kind="HandleInput"),
        Input("agent", "Agent", "other", "", input_types=("Agent",), required=True, input_kind="HandleInput"),
        Input("task", "Task", "other", "", input_types=("SequentialTask",), input_kind="HandleInput"),
        Input("async_execution", "Async Execution", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("task_output", "build_task", ("SequentialTask",), "Task"),)

    async def build_task(self) -> list[CrewTask]:
        agent = self.params.get("agent")
        if not isinstance(agent, CrewAgent):
            raise ComponentError(self.id, self.name, "a Sequential Task needs a CrewAI Agent connected to 'Agent'")
        task = CrewTask(to_text(self.param("task_description")), to_text(self.param("expected_output")), agent, _tools(self.params.get("tools")))
        return [*_tasks(self.params.get("task")), task]


class SequentialTaskAgentComponent(_CrewAgentBuilder):
    type_name = "SequentialTaskAgentComponent"
    display_name = "Sequential Task Agent"
    description = "Creates a CrewAI Task and its associated Agent."
    inputs = (
        *_agent_inputs(allow_delegation=False, verbose=True),
        Input("agent_kwargs", "Agent kwargs", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
        *_task_fields(),
        Input("async_execution", "Async Execution", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("previous_task", "Previous Task", "other", "", input_types=("SequentialTask",), input_kind="HandleInput"),
    )
    outputs = (Output("task_output", "build_agent_and_task", ("SequentialTask",), "Sequential Task"),)

    async def build_agent_and_task(self) -> list[CrewTask]:
        task = CrewTask(to_text(self.param("task_description")), to_text(self.param("expected_output")), self.crew_agent())
        return [*_tasks(self.params.get("previous_task")), task]


class HierarchicalTaskComponent(Component):
    type_name = "HierarchicalTaskComponent"
    display_name = "Hierarchical Task"
    description = "Each task must have a description, an expected output and an agent responsible for execution."
    category = "crewai"
    icon = "CrewAI"
    inputs = (
        *_task_fields(),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True, advanced=True, input_kind="HandleInput"),
    )
    outputs = (Output("task_output", "build_task", ("HierarchicalTask",), "Task"),)

    async def build_task(self) -> CrewTask:
        return CrewTask(to_text(self.param("task_description")), to_text(self.param("expected_output")), None, _tools(self.params.get("tools")))


def _crew_inputs(task_type: str) -> tuple[Input, ...]:
    return (
        Input("verbose", "Verbose", "int", 0, advanced=True, input_kind="IntInput"),
        Input("memory", "Memory", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("use_cache", "Cache", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("max_rpm", "Max RPM", "int", 100, advanced=True, input_kind="IntInput"),
        Input("share_crew", "Share Crew", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("function_calling_llm", "Function Calling LLM", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
        Input("tasks", "Tasks", "other", "", input_types=(task_type,), is_list=True, input_kind="HandleInput"),
    )


class _Crew(AgentComponent):
    """Runs tasks with the Agent component's tool loop, one persona per crew agent."""

    category = "crewai"
    icon = "CrewAI"
    outputs = (Output("output", "build_output", ("Message",), "Output"),)

    async def _config(self, model: Any) -> Any:
        from flowless_engine.llm.base import ModelConfig

        for candidate in (model, self.params.get("function_calling_llm")):
            if isinstance(candidate, ModelConfig):
                return candidate
        return await resolve_model_config(self)

    async def work(self, agent: CrewAgent, prompt: str, extra_tools: list[Tool], coworkers: list[CrewAgent]) -> str:
        from flowless_engine.llm.base import ChatMessage

        tools = {t.name: t for t in [*agent.tools, *extra_tools]}
        if coworkers:
            tools.update({t.name: t for t in self._delegation_tools(coworkers)})
        messages = [ChatMessage(role="system", content=agent.persona()), ChatMessage(role="user", content=prompt)]
        return await self._loop(self.ctx.chat_model(await self._config(agent.model)), messages, tools)

    def _delegation_tools(self, coworkers: list[CrewAgent]) -> list[Tool]:
        """Delegate work / ask a question to a coworker: the coworker answers without delegating further."""
        names = ", ".join(c.role for c in coworkers)
        by_role = {c.role.strip().lower(): c for c in coworkers}

        def make(tool_name: str, verb: str, field_name: str) -> Tool:
            async def run(args: dict[str, Any]) -> str:
                coworker = by_role.get(str(args.get("coworker", "")).strip().lower())
                if coworker is None:
                    return f"Error: no coworker named {args.get('coworker')!r}; choose one of: {names}"
                context = str(args.get("context", ""))
                prompt = f"{args.get(field_name, '')}\n\nContext you need:\n{context}" if context else str(args.get(field_name, ""))
                return await self.work(coworker, prompt, [], [])

            return Tool(
                name=tool_name,
                description=f"{verb} one of your coworkers ({names}). Give everything they need in 'context': they know nothing else.",
                parameters={
                    "type": "object",
                    "properties": {field_name: {"type": "string"}, "context": {"type": "string"}, "coworker": {"type": "string", "enum": [c.role for c in coworkers]}},
                    "required": [field_name, "context", "coworker"],
                },
                run=run,
            )

        return [make("delegate_work_to_coworker", "Hand a piece of work to", "task"), make("ask_question_to_coworker", "Ask a question of", "question")]

    @staticmethod
    def task_prompt(task: CrewTask, context: list[str]) -> str:
        parts = [f"Your task: {task.description}"]
        if task.expected_output:
            parts.append(f"Your final answer must be: {task.expected_output}\nGive the complete content itself as your final answer, not a summary of it.")
        if context:
            parts.append("Results of the earlier tasks, to build on:\n" + "\n\n----------\n\n".join(context))
        return "\n\n".join(parts)

    def _result(self, outputs: list[str]) -> Message:
        message = Message(text=outputs[-1] if outputs else "", session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)
        message.usage = self.usage
        self.log({"task_outputs": outputs}, name="crew")
        return message


class SequentialCrewComponent(_Crew):
    type_name = "SequentialCrewComponent"
    display_name = "Sequential Crew"
    description = "Represents a group of agents with tasks that are executed sequentially."
    inputs = _crew_inputs("SequentialTask")

    async def build_output(self) -> Message:
        tasks = _tasks(self.params.get("tasks"))
        if not tasks:
            raise ComponentError(self.id, self.name, "a crew needs at least one task connected to 'Tasks'")
        crew_agents = list({id(t.agent): t.agent for t in tasks if t.agent}.values())
        outputs: list[str] = []
        for task in tasks:
            agent = task.agent
            if agent is None:
                raise ComponentError(self.id, self.name, f"task '{task.description[:40]}' has no agent")
            coworkers = [a for a in crew_agents if a is not agent] if agent.allow_delegation else []
            outputs.append(await self.work(agent, self.task_prompt(task, outputs), task.tools, coworkers))
        return self._result(outputs)


class HierarchicalCrewComponent(_Crew):
    type_name = "HierarchicalCrewComponent"
    display_name = "Hierarchical Crew"
    description = "Represents a group of agents, defining how they should collaborate and the tasks they should perform."
    inputs = (
        *_crew_inputs("HierarchicalTask"),
        Input("agents", "Agents", "other", "", input_types=("Agent",), is_list=True, input_kind="HandleInput"),
        Input("manager_llm", "Manager LLM", "other", "", input_types=("LanguageModel",), input_kind="HandleInput"),
        Input("manager_agent", "Manager Agent", "other", "", input_types=("Agent",), input_kind="HandleInput"),
    )

    async def build_output(self) -> Message:
        tasks = _tasks(self.params.get("tasks"))
        agents = _flatten(self.params.get("agents"), CrewAgent)
        if not tasks or not agents:
            raise ComponentError(self.id, self.name, "a hierarchical crew needs tasks and agents")
        manager = self.params.get("manager_agent")
        if not isinstance(manager, CrewAgent):
            manager = CrewAgent(
                role="Crew Manager",
                goal="Get every task done to the expected standard by delegating to the right coworker and checking the results.",
                backstory="You lead a team of specialists. You plan, delegate and review; your coworkers do the work.",
                model=self.params.get("manager_llm"),
            )
        outputs: list[str] = []
        for task in tasks:
            outputs.append(await self.work(manager, self.task_prompt(task, outputs), task.tools, agents))
        return self._result(outputs)



# ---- SQL agent ----------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_SQL_AGENT_PROMPT = (
    "You answer questions about a {dialect} database. First list its tables, then read the schema of the ones "
    "that matter, then run a query that answers the question (read-only: never change data; ask for at most "
    "{limit} rows unless told otherwise). If a query fails, read the error, fix the query and try again. "
    "Answer from the query results only."
)


class SQLAgentComponent(_ToolsAgent):
    """An agent with the SQL Database component's connection as tools: list tables, read a table's
    schema, run a read-only query."""

    type_name = "SQLAgent"
    display_name = "SQLAgent"
    description = "Construct an SQL agent from an LLM and tools."
    inputs = (
        *_model_inputs(),
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        Input("database_uri", "Database URI", value="", required=True, input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("extra_tools", "Extra Tools", "other", "", input_types=("Tool",), is_list=True, advanced=True, input_kind="HandleInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
    )

    async def answer(self, text: str) -> str:
        from flowless_engine.components.sql import SQLComponent, parse_database_url
        from flowless_engine.llm.base import ChatMessage

        url = await self.secret("database_uri")
        url = url.plain_text if isinstance(url, Message) else to_text(url)
        dialect = parse_database_url(url).dialect
        database = SQLComponent(self.vertex, {"database_url": url, "read_only": True}, self.ctx)

        async def query(sql: str) -> list[dict[str, Any]]:
            database.params["query"] = sql
            return await database._execute()

        tools = {t.name: t for t in [*self._sql_tools(dialect, query), *_tools(self.params.get("extra_tools"))]}
        messages = [
            ChatMessage(role="system", content=_SQL_AGENT_PROMPT.format(dialect=dialect, limit=10)),
            ChatMessage(role="user", content=text),
        ]
        return await self._loop(self.ctx.chat_model(await wired_model_config(self)), messages, tools)

    @staticmethod
    def _sql_tools(dialect: str, query: Any) -> list[Tool]:
        async def list_tables(args: dict[str, Any]) -> str:
            if dialect == "sqlite":
                rows = await query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                return ", ".join(r["name"] for r in rows)
            rows = await query(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
            )
            return ", ".join(r["table_name"] if r["table_schema"] == "public" else f"{r['table_schema']}.{r['table_name']}" for r in rows)

        async def schema(args: dict[str, Any]) -> str:
            names = [n.strip() for n in str(args.get("table_names", "")).split(",") if n.strip()]
            bad = [n for n in names if not _IDENTIFIER.match(n)]
            if not names or bad:
                return f"Error: give table names separated by commas (not valid: {', '.join(bad) or 'none given'})"
            parts = []
            for name in names:
                if dialect == "sqlite":
                    rows = await query(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{name}'")
                    ddl = rows[0]["sql"] if rows else f"-- no table {name}"
                else:
                    table_schema, _, table = name.rpartition(".")
                    rows = await query(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        f"WHERE table_name = '{table}' AND table_schema = '{table_schema or 'public'}' ORDER BY ordinal_position"
                    )
                    ddl = f"CREATE TABLE {name} (" + ", ".join(f"{r['column_name']} {r['data_type']}" for r in rows) + ")" if rows else f"-- no table {name}"
                sample = await query(f'SELECT * FROM {name} LIMIT 3') if not ddl.startswith("--") else []
                parts.append(f"{ddl}\n/* 3 rows of {name}: {json.dumps(sample, default=str)} */")
            return "\n\n".join(parts)

        async def run_query(args: dict[str, Any]) -> str:
            try:
                return json.dumps(await query(str(args.get("query", ""))), ensure_ascii=False, default=str)
            except (ValueError, ConfigurationError, ProviderError) as exc:
                return f"Error: {getattr(exc, 'message', exc)}"

        no_args = {"type": "object", "properties": {}}
        return [
            Tool("sql_db_list_tables", "Lists the tables of the database.", no_args, list_tables),
            Tool("sql_db_schema", "Schema and three sample rows of the given tables (names separated by commas).",
                 {"type": "object", "properties": {"table_names": {"type": "string"}}, "required": ["table_names"]}, schema),
            Tool("sql_db_query", "Runs a read-only SQL query and returns its rows as JSON, or the error.",
                 {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}, run_query),
        ]
