"""Older LangChain chains and retrievers, run natively on the engine's chat models (no LangChain):

- `RetrievalQA`: the wired retriever (a store's connection, or search results wired in) finds the
  documents for the question; the model answers from them (Stuff, Map Reduce, Refine, Map Rerank);
- `LLMMathChain`: the model writes one arithmetic expression, evaluated by walking its syntax tree
  (numbers, + - * / // % **, a few math functions and constants — nothing is ever `eval`ed);
- `LLMCheckerChain`: draft an answer, list its assumptions, check each, answer again from the checks;
- `SQLDatabase` + `SQLGenerator`: the model writes one SQL query from the question and the
  database's schema (tables, columns, three sample rows), read through the SQL component;
- `VectorStoreInfo` + `VectorStoreRouterAgent`: an agent with one question-answering tool per store;
- `SelfQueryRetriever`: the model turns the query into a search text plus a filter over the declared
  metadata fields (`eq("genre", "x")`, `and(...)`...), parsed by a small parser and applied to the
  store's candidates;
- `RunnableExecutor`: runs an older agent node's `agent` output on a text.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from flowless_engine.components.agents_legacy import AgentExecutor, _loop_inputs, _ToolsAgent, history_messages, wired_model_config
from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.errors import ComponentError, ConfigurationError
from flowless_engine.schema import Data, Message

_MESSAGE = ("Message",)
_LLM = Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), required=True, input_kind="HandleInput")
_CHAIN_INPUT = Input("input_value", "Input", value="", required=True, multiline=True, input_types=_MESSAGE,
                     info="The input value to pass to the chain.", input_kind="MultilineInput")
_TEXT_OUTPUT = (Output("text", "invoke_chain", ("Message",), "Message"),)


async def _text_of(value: Any) -> str:
    if isinstance(value, Message):
        await value.resolve()
    return to_text(value)


class _Chain(Component):
    """A chain node: its model (wired into `llm`), one answer as a Message."""

    category = "langchain_utilities"
    icon = "LangChain"

    async def ask(self, messages: list[tuple[str, str]]) -> str:
        from flowless_engine.llm.base import ChatMessage

        config = await wired_model_config(self)
        result = await self.ctx.chat_model(config).complete([ChatMessage(role=r, content=c) for r, c in messages])
        self.add_usage(result.usage)
        return result.text or ""

    def message(self, text: str) -> Message:
        message = Message(text=text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)
        message.usage = self.usage
        self.status = text
        return message


# ---- retrieval ------------------------------------------------------------------------------------


async def retrieve(component: Component, retriever: Any, query: str) -> list[Data]:
    """Documents for `query` from what a node wired into a Retriever/VectorStore handle: a store
    node's connection (searched with the query) or search results (used as they are)."""
    items = retriever if isinstance(retriever, (list, tuple)) else [retriever]
    found: list[Data] = []
    for item in items:
        store = getattr(item, "component", None)
        if store is not None and hasattr(store, "search"):
            found.extend(await store.search(query))
        elif isinstance(item, Data):
            found.append(item)
        elif isinstance(item, dict):
            found.append(Data(data=item))
        elif item not in (None, ""):
            raise ConfigurationError(f"Component '{component.name}': the retriever must be a vector store's connection or its search results")
    return found


def _source(doc: Data, index: int) -> str:
    meta = doc.data
    for key in ("source", "file_path", "url", "title"):
        if meta.get(key):
            return str(meta[key])
    return f"document {index}"


class RetrievalQAComponent(_Chain):
    type_name = "RetrievalQA"
    display_name = "Retrieval QA"
    description = "Chain for question-answering querying sources from a retriever."
    inputs = (
        _CHAIN_INPUT,
        Input("chain_type", "Chain Type", value="Stuff", options=("Stuff", "Map Reduce", "Refine", "Map Rerank"), advanced=True,
              info="Chain type to use.", input_kind="DropdownInput"),
        _LLM,
        Input("retriever", "Retriever", "other", "", input_types=("Retriever",), required=True, input_kind="HandleInput"),
        Input("memory", "Memory", "other", "", input_types=("BaseChatMemory",), input_kind="HandleInput"),
        Input("return_source_documents", "Return Source Documents", "bool", False, input_kind="BoolInput"),
    )
    outputs = (Output("text", "invoke_chain", ("Message",), "Text"),)

    async def invoke_chain(self) -> Message:
        question = await _text_of(self.params.get("input_value"))
        if not question.strip():
            raise ConfigurationError(f"Component '{self.name}': the question is empty")
        docs = await retrieve(self, self.params.get("retriever"), question)
        memory = self.params.get("memory")
        history = await memory.get_messages() if hasattr(memory, "get_messages") else memory
        turns = [(t.role, t.content) for t in history_messages(history)]
        answer = await self.answer(question, [d.text for d in docs], turns)
        if to_bool(self.param("return_source_documents", False)) and docs:
            answer += "\n\n**References:**\n" + "\n".join(f"- {_source(d, i)}: {d.text[:200]}" for i, d in enumerate(docs, 1))
        self.log({"query": question, "source_documents": [d.data for d in docs]}, "retrieval")
        return self.message(answer)

    async def answer(self, question: str, texts: list[str], turns: list[tuple[str, str]]) -> str:
        kind = to_text(self.param("chain_type", "Stuff")).lower().replace(" ", "_") or "stuff"
        rule = "Answer the question from the context below only. If the context does not hold the answer, say that you do not know."
        if kind == "map_reduce" and texts:
            notes = [await self.ask([("system", "Quote the parts of the text that help answer the question, or say NONE."),
                                     ("user", f"Text:\n{t}\n\nQuestion: {question}")]) for t in texts]
            texts = [n for n in notes if n.strip().upper() != "NONE"]
        elif kind == "refine" and texts:
            answer = await self.ask([("system", rule), *turns, ("user", f"Context:\n{texts[0]}\n\nQuestion: {question}")])
            for text in texts[1:]:
                answer = await self.ask([("system", "Improve the existing answer with the new context if it helps; otherwise repeat it."),
                                         ("user", f"Question: {question}\nExisting answer: {answer}\n\nNew context:\n{text}")])
            return answer
        elif kind == "map_rerank" and texts:
            best, best_score = "", -1
            for text in texts:
                reply = await self.ask([("system", rule + " End with a line 'Score: N' (0-100): how fully the context answers it."),
                                        ("user", f"Context:\n{text}\n\nQuestion: {question}")])
                match = re.search(r"Score:\s*(\d+)", reply)
                score = int(match.group(1)) if match else 0
                if score > best_score:
                    best, best_score = reply[: match.start()].strip() if match else reply.strip(), score
            return best
        context = "\n\n".join(texts) or "(no documents found)"
        return await self.ask([("system", rule), *turns, ("user", f"Context:\n{context}\n\nQuestion: {question}")])


# ---- LLMMathChain -----------------------------------------------------------------------------------

_FUNCTIONS: dict[str, Any] = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil, "min": min, "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
MAX_FACTORIAL = 170


def evaluate_math(expression: str) -> float:
    """The value of an arithmetic expression with the functions and constants above. Raises
    ExpressionError; never runs code."""
    from flowless_engine.components.tools import MAX_EXPRESSION_CHARS, ExpressionError

    expression = expression.strip().replace("^", "**")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression, mode="eval")
        result = _walk(tree.body)
    except SyntaxError as exc:
        raise ExpressionError(f"invalid syntax ({exc.msg})") from exc
    except (OverflowError, MemoryError) as exc:
        raise ExpressionError("result is too large") from exc
    except RecursionError as exc:
        raise ExpressionError("expression is nested too deeply") from exc
    except (ValueError, ZeroDivisionError, TypeError) as exc:
        if isinstance(exc, ExpressionError):
            raise
        raise ExpressionError(str(exc) or type(exc).__name__) from exc
    if isinstance(result, complex) or math.isnan(result) or math.isinf(result):
        raise ExpressionError("result is not a finite real number")
    return result


def _walk(node: ast.AST) -> float:
    from flowless_engine.components.tools import _BINARY, _UNARY, MAX_EXPONENT, ExpressionError

    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {right:g} is larger than {MAX_EXPONENT}")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        args = [_walk(a) for a in node.args]
        if name == "factorial" and len(args) == 1:
            if args[0] != int(args[0]) or not 0 <= args[0] <= MAX_FACTORIAL:
                raise ExpressionError(f"factorial needs a whole number from 0 to {MAX_FACTORIAL}")
            return float(math.factorial(int(args[0])))
        if name in _FUNCTIONS and args:
            return float(_FUNCTIONS[name](*args))
        raise ExpressionError(f"unknown function {name!r}")
    what = node.id if isinstance(node, ast.Name) else type(node).__name__
    raise ExpressionError(f"unsupported expression: {what}")


_MATH_PROMPT = (
    "Translate the math problem into ONE arithmetic expression that computes its answer. Use numbers, "
    "+ - * / // % ** and parentheses, the functions " + ", ".join(sorted([*_FUNCTIONS, "factorial"])) + " and the constants pi, e. "
    "Write the expression inside a ```text block, like:\n```text\n37593 * 67\n```"
)
_FENCE = re.compile(r"```(?:text|python|math)?\s*\n?(.*?)```", re.S)


class LLMMathChainComponent(_Chain):
    type_name = "LLMMathChain"
    display_name = "LLMMathChain"
    description = "Chain that interprets a prompt and executes python code to do math."
    inputs = (_CHAIN_INPUT, _LLM)
    outputs = _TEXT_OUTPUT

    async def invoke_chain(self) -> Message:
        from flowless_engine.components.tools import ExpressionError, format_number

        question = await _text_of(self.params.get("input_value"))
        reply = (await self.ask([("system", _MATH_PROMPT), ("user", question)])).strip()
        fence = _FENCE.search(reply)
        if fence:
            expression = fence.group(1).strip()
        elif reply.startswith("Answer:"):
            return self.message(reply)
        else:
            expression = reply.splitlines()[0].strip() if reply else ""
        try:
            value = evaluate_math(expression)
        except ExpressionError as exc:
            raise ComponentError(self.id, self.name, f"the model's expression {expression[:200]!r} cannot be computed: {exc}") from exc
        self.log(expression, "expression")
        return self.message(f"Answer: {format_number(value)}")


# ---- LLMCheckerChain -------------------------------------------------------------------------------


class LLMCheckerChainComponent(_Chain):
    type_name = "LLMCheckerChain"
    display_name = "LLMCheckerChain"
    description = "Chain for question-answering with self-verification."
    inputs = (_CHAIN_INPUT, _LLM)
    outputs = (Output("text", "invoke_chain", ("Message",), "Text"),)

    async def invoke_chain(self) -> Message:
        question = await _text_of(self.params.get("input_value"))
        draft = await self.ask([("user", question)])
        assumptions = await self.ask([("user", f"Question: {question}\nAnswer: {draft}\n\n"
                                               "List, as bullet points, the assumptions and factual statements this answer relies on.")])
        checks = await self.ask([("user", "For each statement below, say whether it is true or false and, if false, why.\n\n" + assumptions)])
        final = await self.ask([("user", f"Question: {question}\n\nChecked statements:\n{checks}\n\n"
                                          "Given these checks, answer the question.")])
        self.log({"draft": draft, "assumptions": assumptions, "checks": checks}, "checks")
        return self.message(final.strip())


# ---- SQL ----------------------------------------------------------------------------------------------


@dataclass
class SQLDatabaseHandle:
    """What the SQL Database node's output carries: its URL and node (queries read-only)."""

    url: str
    node: Component

    @property
    def dialect(self) -> str:
        from flowless_engine.components.sql import parse_database_url

        return parse_database_url(self.url).dialect

    async def query(self, sql: str) -> list[dict[str, Any]]:
        from flowless_engine.components.sql import SQLComponent

        runner = SQLComponent(self.node.vertex, {"database_url": self.url, "read_only": True, "query": sql}, self.node.ctx)
        return await runner._execute()

    async def table_info(self) -> str:
        from flowless_engine.components.agents_legacy import SQLAgentComponent

        tools = {t.name: t for t in SQLAgentComponent._sql_tools(self.dialect, self.query)}
        tables = await tools["sql_db_list_tables"].run({})
        if not tables.strip():
            return "(no tables)"
        return await tools["sql_db_schema"].run({"table_names": tables})

    def __str__(self) -> str:
        return f"<SQL database ({self.dialect})>"


class SQLDatabaseComponent(Component):
    type_name = "SQLDatabase"
    display_name = "SQLDatabase"
    description = "SQL Database"
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (Input("uri", "URI", value="", required=True, info="URI to the database.", input_kind="StrInput"),)
    outputs = (Output("SQLDatabase", "build_sqldatabase", ("SQLDatabase",), "SQLDatabase"),)

    async def build_sqldatabase(self) -> SQLDatabaseHandle:
        url = await self.secret("uri")
        if not url:
            raise ConfigurationError(f"Component '{self.name}': the database URI is empty")
        handle = SQLDatabaseHandle(str(url), self)
        handle.dialect  # refuses a URL it cannot use, here
        return handle


_SQL_PROMPT = (
    "You are a {dialect} expert. Given an input question, write ONE syntactically correct {dialect} query that "
    "answers it. Unless the question asks for a number of rows, return at most {top_k} rows (LIMIT). Query only the "
    "columns needed, quote identifiers when needed, and use only the tables and columns below.\n\n"
    "Answer with the query only, after 'SQLQuery:'.\n\nTables:\n{table_info}\n\nQuestion: {input}"
)


class SQLGeneratorComponent(_Chain):
    type_name = "SQLGenerator"
    display_name = "Natural Language to SQL"
    description = "Generate SQL from natural language."
    inputs = (
        _CHAIN_INPUT,
        _LLM,
        Input("db", "SQLDatabase", "other", "", input_types=("SQLDatabase",), required=True, input_kind="HandleInput"),
        Input("top_k", "Top K", "int", 5, info="The number of results per select statement to return.", input_kind="IntInput"),
        Input("prompt", "Prompt", value="", multiline=True, info="The prompt must contain `{question}`.", input_kind="MultilineInput"),
    )
    outputs = _TEXT_OUTPUT

    async def invoke_chain(self) -> Message:
        question = await _text_of(self.params.get("input_value"))
        top_k = to_int(self.param("top_k", 5), 5)
        if top_k < 1:
            raise ConfigurationError(f"Component '{self.name}': Top K must be greater than 0.")
        db = self.params.get("db")
        if isinstance(db, list) and len(db) == 1:
            db = db[0]
        if not isinstance(db, SQLDatabaseHandle):
            raise ConfigurationError(f"Component '{self.name}' needs a SQLDatabase node wired into 'db'")
        custom = to_text(self.param("prompt", ""))
        if custom.strip() and "{question}" not in custom:
            raise ConfigurationError(f"Component '{self.name}': Prompt must contain `{{question}}` to be used with Natural Language to SQL.")
        template = custom if custom.strip() else _SQL_PROMPT
        values = {"dialect": db.dialect, "top_k": str(top_k), "table_info": await db.table_info(), "input": question, "question": question}
        prompt = re.sub(r"\{(dialect|top_k|table_info|input|question)\}", lambda m: values[m.group(1)], template)
        reply = await self.ask([("user", prompt)])
        query = reply.split("SQLResult:")[0].replace("SQLQuery:", "").strip()
        return self.message(query)


# ---- vector store router -------------------------------------------------------------------------


@dataclass
class VectorStoreInfo:
    name: str
    description: str
    vectorstore: Any

    def __str__(self) -> str:
        return f"{self.name}: {self.description}"


class VectorStoreInfoComponent(Component):
    type_name = "VectorStoreInfo"
    display_name = "VectorStoreInfo"
    description = "Information about a VectorStore"
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("vectorstore_name", "Name", value="", required=True, input_types=_MESSAGE, info="Name of the VectorStore", input_kind="MessageTextInput"),
        Input("vectorstore_description", "Description", value="", required=True, multiline=True, info="Description of the VectorStore",
              input_kind="MultilineInput"),
        Input("input_vectorstore", "Vector Store", "other", "", input_types=("VectorStore",), required=True, input_kind="HandleInput"),
    )
    outputs = (Output("info", "build_info", ("VectorStoreInfo",), "Vector Store Info"),)

    async def build_info(self) -> VectorStoreInfo:
        name = await _text_of(self.params.get("vectorstore_name"))
        store = self.params.get("input_vectorstore")
        if not name.strip() or store in (None, "", []):
            raise ConfigurationError(f"Component '{self.name}' needs a name and a vector store")
        self.status = {"name": name, "description": to_text(self.params.get("vectorstore_description"))}
        return VectorStoreInfo(name, to_text(self.params.get("vectorstore_description")), store)


def _tool_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:64] or "vectorstore"


class VectorStoreRouterAgentComponent(_ToolsAgent):
    type_name = "VectorStoreRouterAgent"
    display_name = "VectorStoreRouterAgent"
    description = "Construct an agent from a Vector Store Router."
    inputs = (
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        _LLM,
        Input("vectorstores", "Vector Stores", "other", "", input_types=("VectorStoreInfo",), is_list=True, required=True, input_kind="HandleInput"),
    )

    async def answer(self, text: str) -> str:
        from flowless_engine.llm.base import ChatMessage

        config = await wired_model_config(self)
        chat = self.ctx.chat_model(config)
        infos = [i for i in self.params.get("vectorstores") or [] if isinstance(i, VectorStoreInfo)]
        if not infos:
            raise ConfigurationError(f"Component '{self.name}' needs VectorStoreInfo nodes wired into 'vectorstores'")
        tools: dict[str, Tool] = {}
        for info in infos:
            tool = self._store_tool(info, chat)
            tools.setdefault(tool.name, tool)
        messages = [ChatMessage(role="system", content="Answer the question. Use the tools to look up what they know about."),
                    ChatMessage(role="user", content=text)]
        return await self._loop(chat, messages, tools)

    def _store_tool(self, info: VectorStoreInfo, chat: Any) -> Tool:
        from flowless_engine.llm.base import ChatMessage

        async def run(args: dict[str, Any]) -> str:
            question = to_text(args.get("query") or args.get("input") or "")
            docs = await retrieve(self, info.vectorstore, question)
            context = "\n\n".join(d.text for d in docs) or "(no documents found)"
            result = await chat.complete([
                ChatMessage(role="system", content="Answer the question from the context below only; say so if it does not hold the answer."),
                ChatMessage(role="user", content=f"Context:\n{context}\n\nQuestion: {question}"),
            ])
            self.add_usage(result.usage)
            return result.text

        description = (f"Useful for answering questions about {info.name}. Whenever you need information about "
                       f"{info.description} use this. The input is a fully formed question.")
        schema = {"type": "object", "properties": {"query": {"type": "string", "description": "A fully formed question."}}, "required": ["query"]}
        return Tool(_tool_name(info.name), description, schema, run, source_id=self.id)


# ---- SelfQueryRetriever --------------------------------------------------------------------------

_COMPARATORS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b, "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b, "in": lambda a, b: a in b, "nin": lambda a, b: a not in b,
    "contain": lambda a, b: a is not None and b in a, "like": lambda a, b: a is not None and str(b).strip("%") in str(a),
}
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>[(),\[\]]))')


class FilterSyntaxError(ValueError):
    pass


def parse_filter(text: str) -> Any:
    """`and(eq("genre", "drama"), gt("year", 2000))` → a nested tuple tree; "NO_FILTER" → None."""
    text = text.strip()
    if not text or text == "NO_FILTER":
        return None
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterSyntaxError(f"unexpected text at {text[pos:pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "str":
            tokens.append(("value", json.loads('"' + raw[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"') if raw[0] == "'" else json.loads(raw)))
        elif kind == "num":
            tokens.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind == "name" and raw in ("true", "false", "True", "False"):
            tokens.append(("value", raw.lower() == "true"))
        else:
            tokens.append((kind, raw))
    index = 0

    def peek() -> tuple[str, Any]:
        return tokens[index] if index < len(tokens) else ("end", None)

    def take(kind: str, value: Any = None) -> Any:
        nonlocal index
        got = peek()
        if got[0] != kind or (value is not None and got[1] != value):
            raise FilterSyntaxError(f"expected {value or kind}, found {got[1]!r}")
        index += 1
        return got[1]

    def expr() -> Any:
        kind, value = peek()
        if kind == "value":
            take("value")
            return ("value", value)
        if kind == "punct" and value == "[":
            take("punct", "[")
            items = []
            while peek() != ("punct", "]"):
                items.append(expr()[1])
                if peek() == ("punct", ","):
                    take("punct", ",")
            take("punct", "]")
            return ("value", items)
        name = take("name")
        take("punct", "(")
        args = []
        while peek() != ("punct", ")"):
            args.append(expr())
            if peek() == ("punct", ","):
                take("punct", ",")
        take("punct", ")")
        if name in ("and", "or", "not"):
            if not args or any(a[0] == "value" for a in args):
                raise FilterSyntaxError(f"{name}() takes comparisons")
            return (name, args)
        if name not in _COMPARATORS or len(args) != 2 or args[0][0] != "value" or args[1][0] != "value":
            raise FilterSyntaxError(f"unknown comparison {name}() or wrong arguments")
        return ("cmp", name, str(args[0][1]), args[1][1])

    tree = expr()
    if peek()[0] != "end":
        raise FilterSyntaxError("text after the filter")
    if tree[0] == "value":
        raise FilterSyntaxError("the filter is a value, not a comparison")
    return tree


def matches(tree: Any, metadata: dict[str, Any]) -> bool:
    if tree is None:
        return True
    if tree[0] == "and":
        return all(matches(t, metadata) for t in tree[1])
    if tree[0] == "or":
        return any(matches(t, metadata) for t in tree[1])
    if tree[0] == "not":
        return not all(matches(t, metadata) for t in tree[1])
    _, op, attribute, value = tree
    try:
        return bool(_COMPARATORS[op](metadata.get(attribute), value))
    except TypeError:
        return False


_SELF_QUERY_PROMPT = """Turn the user's query into a structured request over a collection of documents.

Documents: {contents}
Metadata fields you may filter on:
{fields}

Answer with a JSON object only: {{"query": "<the text to match against document contents, without the filter conditions>", \
"filter": "<a filter or NO_FILTER>", "limit": <a number of documents if the query asks for one, else null>}}
A filter is a comparison `comp("field", value)` with comp one of eq, ne, gt, gte, lt, lte, in, nin, contain, like, \
or `and(...)`, `or(...)`, `not(...)` of filters. Strings in double quotes. Use only the fields listed."""
CANDIDATES = 200


class SelfQueryRetrieverComponent(Component):
    type_name = "SelfQueryRetriever"
    display_name = "Self Query Retriever"
    description = "Retriever that uses a vector store and an LLM to generate the vector store queries."
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("query", "Query", "other", "", input_types=_MESSAGE, info="Query to be passed as input.", input_kind="HandleInput"),
        Input("vectorstore", "Vector Store", "other", "", input_types=("VectorStore",), info="Vector Store to be passed as input.", input_kind="HandleInput"),
        Input("attribute_infos", "Metadata Field Info", "other", "", input_types=("Data", "JSON"), is_list=True,
              info="Metadata Field Info to be passed as input.", input_kind="HandleInput"),
        Input("document_content_description", "Document Content Description", value="", input_types=_MESSAGE,
              info="Document Content Description to be passed as input.", input_kind="MessageTextInput"),
        Input("llm", "LLM", "other", "", input_types=("LanguageModel",), info="LLM to be passed as input.", input_kind="HandleInput"),
    )
    outputs = (Output("documents", "retrieve_documents", ("JSON",), "Retrieved Documents"),)

    async def retrieve_documents(self) -> list[Data]:
        from flowless_engine.llm.base import ChatMessage

        query = self.params.get("query")
        if isinstance(query, list) and len(query) == 1:
            query = query[0]
        if not isinstance(query, (Message, str)):
            raise ConfigurationError(f"Component '{self.name}': Query type {type(query).__name__} not supported.")
        text = await _text_of(query)
        infos = [i.data if isinstance(i, Data) else i for i in self.params.get("attribute_infos") or []]
        fields = [i for i in infos if isinstance(i, dict) and i.get("name")]
        names = {str(f["name"]) for f in fields}
        listing = "\n".join(f"- {f['name']} ({f.get('type', 'string')}): {f.get('description', '')}" for f in fields) or "(none)"
        prompt = _SELF_QUERY_PROMPT.format(contents=to_text(self.params.get("document_content_description")) or "(not described)", fields=listing)
        result = await self.ctx.chat_model(await wired_model_config(self)).complete(
            [ChatMessage(role="system", content=prompt), ChatMessage(role="user", content=text)])
        self.add_usage(result.usage)
        search, tree, limit = self._structured(result.text or "", names)
        store = self.params.get("vectorstore")
        component = getattr(store[0] if isinstance(store, list) and store else store, "component", None)
        if component is None or not hasattr(component, "collection"):
            raise ConfigurationError(f"Component '{self.name}' needs a vector store's connection wired into 'vectorstore'")
        rows = await self._candidates(component, search)
        found = [r for r in rows if matches(tree, r.data)][: limit or component.result_count()]
        self.log({"query": search, "filter": result.text, "limit": limit}, "structured query")
        self.status = found
        return found

    def _structured(self, reply: str, names: set[str]) -> tuple[str, Any, int | None]:
        body = reply.strip()
        fence = re.search(r"```(?:json)?\s*(.*?)```", body, re.S)
        if fence:
            body = fence.group(1)
        start, end = body.find("{"), body.rfind("}")
        try:
            request = json.loads(body[start:end + 1]) if start >= 0 else None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            raise ComponentError(self.id, self.name, f"the model's structured query is not a JSON object: {reply[:200]!r}")
        try:
            tree = parse_filter(str(request.get("filter") or "NO_FILTER"))
        except FilterSyntaxError as exc:
            raise ComponentError(self.id, self.name, f"the model's filter cannot be read: {exc}") from exc
        unknown = sorted(_attributes(tree) - names) if names else []
        if unknown:
            raise ComponentError(self.id, self.name, f"the model's filter uses undeclared metadata fields: {', '.join(unknown)}")
        limit = request.get("limit")
        limit = int(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit > 0 else None
        return to_text(request.get("query") or "").strip(), tree, limit

    @staticmethod
    async def _candidates(component: Any, text: str) -> list[Data]:
        from flowless_engine.components.store_base import SIMILARITY

        collection = await component.collection()
        if not text:
            return [component.row(h) for h in await collection.scan(CANDIDATES, None)]
        return [component.row(h) for h in await component._ranked(collection, text, CANDIDATES, {}, SIMILARITY)]


def _attributes(tree: Any) -> set[str]:
    if tree is None:
        return set()
    if tree[0] in ("and", "or", "not"):
        return set().union(*(_attributes(t) for t in tree[1]))
    return {tree[2]}


# ---- RunnableExecutor -----------------------------------------------------------------------------


class RunnableExecutorComponent(Component):
    type_name = "RunnableExecutor"
    display_name = "Runnable Executor"
    description = "Execute a runnable. It will try to guess the input and output keys."
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("input_value", "Input", value="", required=True, input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("runnable", "Agent Executor", "other", "", input_types=("Chain", "AgentExecutor", "Agent", "Runnable"), required=True,
              input_kind="HandleInput"),
        Input("input_key", "Input Key", value="input", advanced=True, input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("output_key", "Output Key", value="output", advanced=True, input_types=_MESSAGE, input_kind="MessageTextInput"),
        Input("use_stream", "Stream", "bool", False, input_kind="BoolInput"),
    )
    outputs = (Output("text", "build_executor", ("Message",), "Message"),)

    async def build_executor(self) -> Message:
        runnable = self.params.get("runnable")
        if isinstance(runnable, list) and len(runnable) == 1:
            runnable = runnable[0]
        if not isinstance(runnable, AgentExecutor):
            raise ConfigurationError(f"Component '{self.name}': The runnable must be an AgentExecutor (an agent node's 'Agent' output)")
        text = await runnable.run(await _text_of(self.params.get("input_value")))
        self.add_usage(runnable.node.usage)
        message = Message(text=text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)
        message.usage = self.usage
        self.status = text
        return message
