"""Message History (retrieve / store) and Structured Output."""

from __future__ import annotations

from typing import Any

import pytest

from flowless_engine.errors import ComponentError
from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.schema import Message
from tests.support.engine_kit import FakeChatModel, chat_flow, component_node, edge, flow, run


@pytest.fixture
async def store() -> InMemoryMessageStore:
    """Two earlier turns of session s-1 in flow-1, one in another session, one in another flow."""
    store = InMemoryMessageStore()
    for text in ("one", "two"):
        await run(chat_flow(), text, messages=store, session_id="s-1")
    await run(chat_flow(), "elsewhere", messages=store, session_id="s-2")
    await run(chat_flow(flow_id="flow-2"), "other flow", messages=store, session_id="s-1")
    return store


async def retrieve(store: InMemoryMessageStore, output: str = "messages_text", **memory_values: Any) -> Any:
    nodes = [component_node("Memory-1", "Memory", **memory_values)]
    ran = await run(flow(nodes), messages=store, session_id="s-1", outputs=["Memory-1"], tweaks={})
    if output != "messages_text":
        nodes.append(component_node("Sink-1", "ChatOutput", should_store_message=False))
        types = ("DataFrame",) if output == "dataframe" else ("Data",)
        wire = edge("Memory-1", output, "Sink-1", "input_value", output_types=types, input_types=types)
        ran = await run(flow(nodes, [wire]), messages=store, session_id="s-1", outputs=["Memory-1"])
    return ran.vertex("Memory-1").values[output]


async def test_retrieve_as_text(store: InMemoryMessageStore) -> None:
    text = await retrieve(store)
    assert isinstance(text, Message)
    assert text.text == "User: one\nAI: one\nUser: two\nAI: two"


async def test_retrieve_options(store: InMemoryMessageStore) -> None:
    assert (await retrieve(store, n_messages=2)).text == "User: two\nAI: two"
    assert (await retrieve(store, n_messages=2, order="Descending")).text == "AI: two\nUser: two"
    assert (await retrieve(store, sender_type="User")).text == "User: one\nUser: two"
    assert (await retrieve(store, sender_type="Machine", template="{text}")).text == "one\ntwo"
    assert (await retrieve(store, sender_name="AI", template="{sender}")).text == "Machine\nMachine"


async def test_retrieve_as_rows(store: InMemoryMessageStore) -> None:
    frame = await retrieve(store, "dataframe", n_messages=1)
    assert [(r["text"], r["sender"], r["session_id"]) for r in frame.rows] == [("two", "Machine", "s-1")]
    data = await retrieve(store, "messages", n_messages=2)
    assert [d.text for d in data] == ["two", "two"]


async def test_store_mode_writes_the_message(store: InMemoryMessageStore) -> None:
    nodes = [component_node("ChatInput-1", "ChatInput", should_store_message=False), component_node("Memory-1", "Memory", mode="Store", sender_name="Noted")]
    ran = await run(flow(nodes, [edge("ChatInput-1", "message", "Memory-1", "message")]), "remember this", messages=store, session_id="s-3", outputs=["Memory-1"])
    stored = [m for m in store.messages if m.session_id == "s-3"]
    assert [(m.text, m.sender, m.sender_name, m.run_id) for m in stored] == [("remember this", "User", "Noted", ran.ctx.run_id)]
    assert ran.vertex("Memory-1").values["messages_text"].text == "Noted: remember this"


async def test_store_mode_with_plain_text(store: InMemoryMessageStore) -> None:
    nodes = [component_node("Memory-1", "Memory", mode="Store", message="a note")]
    await run(flow(nodes), messages=store, session_id="s-4", outputs=["Memory-1"])
    assert [(m.text, m.sender, m.sender_name) for m in store.messages if m.session_id == "s-4"] == [("a note", "Machine", "AI")]


async def test_store_mode_stores_once_even_with_several_outputs_wired(store: InMemoryMessageStore) -> None:
    nodes = [
        component_node("Memory-1", "Memory", mode="Store", message="only once"),
        component_node("ChatOutput-a", "ChatOutput", should_store_message=False),
        component_node("ChatOutput-b", "ChatOutput", should_store_message=False),
    ]
    edges = [
        edge("Memory-1", "messages_text", "ChatOutput-a", "input_value"),
        edge("Memory-1", "dataframe", "ChatOutput-b", "input_value", output_types=("DataFrame",), input_types=("DataFrame",)),
    ]
    await run(flow(nodes, edges), messages=store, session_id="s-5")
    assert [m.text for m in store.messages if m.session_id == "s-5"] == ["only once"]


# ---- structured output ------------------------------------------------------------------------

TABLE = [{"name": "name", "description": "Person name", "type": "str", "multiple": "False"}, {"name": "age", "type": "int", "multiple": "False"}]


def structured_flow(output: str = "structured_output", **values: Any) -> dict:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("StructuredOutput-1", "StructuredOutput", output_schema=TABLE, **values),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    kind = ("Data",) if output == "structured_output" else ("DataFrame",)
    edges = [
        edge("ChatInput-1", "message", "StructuredOutput-1", "input_value"),
        edge("StructuredOutput-1", output, "ChatOutput-1", "input_value", output_types=kind, input_types=kind),
    ]
    return flow(nodes, edges)


async def test_structured_output_asks_for_a_list_of_schema_objects() -> None:
    model = FakeChatModel(['{"objects": [{"name": "Ada", "age": 36}]}'])
    ran = await run(structured_flow(), "Ada is 36", model=model, output_type="debug")
    (call,) = model.calls
    assert call["json_schema"] == {
        "type": "object",
        "properties": {"objects": {"type": "array", "items": {
            "type": "object",
            "properties": {"name": {"type": "string", "description": "Person name"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
        }}},
        "required": ["objects"],
    }
    assert [m.role for m in call["messages"]] == ["system", "user"]
    assert call["messages"][1].content == "Ada is 36"
    assert ran.vertex("StructuredOutput-1").values["structured_output"].data == {"name": "Ada", "age": 36}
    assert ran.vertex("StructuredOutput-1").usage is not None


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"objects": [{"name": "A"}, {"name": "B"}]}', {"results": [{"name": "A"}, {"name": "B"}]}),
        ('{"name": "A"}', {"name": "A"}),
        ('```\n{"objects": [{"name": "A"}]}\n```', {"name": "A"}),
        ('{"objects": ["x"]}', {"value": "x"}),
    ],
)
async def test_structured_output_replies(reply: str, expected: dict) -> None:
    ran = await run(structured_flow(), "text", model=FakeChatModel([reply]), output_type="debug")
    assert ran.vertex("StructuredOutput-1").values["structured_output"].data == expected


async def test_structured_output_as_a_dataframe() -> None:
    ran = await run(structured_flow("dataframe_output"), "text", model=FakeChatModel(['{"objects": [{"name": "A"}, {"name": "B"}]}']), output_type="debug")
    assert ran.vertex("StructuredOutput-1").values["dataframe_output"].rows == [{"name": "A"}, {"name": "B"}]
    assert ran.vertex("ChatOutput-1").values["message"].text.splitlines()[0] == "| name |"


async def test_structured_output_that_is_not_json() -> None:
    with pytest.raises(ComponentError) as caught:
        await run(structured_flow(), "text", model=FakeChatModel(["I cannot"]))
    assert caught.value.node_id == "StructuredOutput-1"


async def test_structured_output_with_a_wired_model() -> None:
    exported = structured_flow()
    exported["data"]["nodes"].append(component_node("LanguageModelComponent-1", "LanguageModelComponent", model=[{"name": "gpt-4.1", "provider": "OpenAI"}]))
    exported["data"]["edges"].append(
        edge("LanguageModelComponent-1", "model_output", "StructuredOutput-1", "llm", output_types=("LanguageModel",), input_types=("LanguageModel",))
    )
    ran = await run(exported, "text", model=FakeChatModel(['{"objects": []}']), output_type="debug")
    assert [c.model for c in ran.models.configs] == ["gpt-4.1"]
    assert ran.vertex("StructuredOutput-1").values["structured_output"].data == {"results": []}
