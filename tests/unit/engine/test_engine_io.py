"""Chat Input/Output (storage rules, conversions, the streaming protocol), Text Input/Output, Webhook."""

from __future__ import annotations

import json

from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.schema import Message
from tests.support.engine_kit import chat_flow, component_node, edge, event_names, flow, llm_flow, raw_node, run

MESSAGE_KEYS = {
    "text_key", "data", "default_value", "text", "sender", "sender_name", "files", "session_id", "context_id",
    "run_id", "timestamp", "flow_id", "error", "edit", "properties", "category", "content_blocks", "duration",
    "session_metadata",
}
PROPERTY_KEYS = {
    "text_color", "background_color", "edited", "source", "icon", "allow_markdown", "positive_feedback", "state",
    "targets", "usage", "build_duration",
}


async def test_chat_input_builds_and_stores_the_user_message() -> None:
    ran = await run(chat_flow(flow_id="f-1"), "Hello there")
    user = ran.vertex("ChatInput-1").values["message"]
    assert (user.text, user.sender, user.sender_name, user.session_id, user.flow_id) == ("Hello there", "User", "User", "f-1", "f-1")
    assert user.properties["source"] == {"id": "ChatInput-1", "display_name": "Chat Input", "source": "Chat Input"}
    assert user.run_id == ran.ctx.run_id
    stored = ran.ctx.messages.messages
    assert [(m.sender, m.text) for m in stored] == [("User", "Hello there"), ("Machine", "Hello there")]
    first = ran.named("add_message")[0]
    assert first["id"] == user.id == first["data"]["id"]
    assert set(first) == MESSAGE_KEYS | {"id"}


async def test_should_store_message_false_stores_and_announces_nothing() -> None:
    ran = await run(chat_flow(), "hi", tweaks={"should_store_message": False})
    assert ran.ctx.messages.messages == []
    assert "add_message" not in event_names(ran.events)
    assert ran.text() == "hi"


async def test_sender_fields_are_used() -> None:
    ran = await run(chat_flow(), "hi", tweaks={"ChatInput-1": {"sender_name": "Ada"}, "ChatOutput-1": {"sender": "User", "sender_name": "Echo"}})
    assert [(m.sender, m.sender_name) for m in ran.ctx.messages.messages] == [("User", "Ada"), ("User", "Echo")]


async def test_chat_output_result_has_langflows_shape() -> None:
    ran = await run(llm_flow(), "Hello there", session_id="s-1")
    (result,) = ran.outputs
    assert set(result) == {
        "results", "artifacts", "outputs", "logs", "messages", "timedelta", "duration", "component_display_name",
        "component_id", "used_frozen_result", "token_usage",
    }
    message = result["results"]["message"]
    assert set(message) == MESSAGE_KEYS
    assert set(message["properties"]) == PROPERTY_KEYS
    assert set(message["data"]) == MESSAGE_KEYS - {"text_key", "data", "default_value"} | {"id"}
    assert message["text"] == message["data"]["text"] == "Echo: Hello there"
    assert (message["sender"], message["sender_name"], message["session_id"]) == ("Machine", "AI", "s-1")
    assert message["properties"]["source"] == {"id": "LanguageModelComponent-1", "display_name": "Language Model", "source": "gpt-4o-mini"}
    assert message["properties"]["state"] == "complete"
    assert message["timestamp"].endswith(" UTC") and len(message["timestamp"]) == len("2024-01-01 00:00:00.000000 UTC")
    assert result["artifacts"] == {"message": "Echo: Hello there", "sender": "Machine", "sender_name": "AI", "files": [], "type": "object"}
    assert result["outputs"] == {"message": {"message": "Echo: Hello there", "type": "text"}}
    assert result["logs"] == {"message": []}
    assert result["messages"] == [{
        "message": "Echo: Hello there", "sender": "Machine", "sender_name": "AI", "session_id": "s-1",
        "stream_url": None, "component_id": "ChatOutput-1", "files": [], "type": "text",
    }]
    assert (result["timedelta"], result["duration"], result["used_frozen_result"], result["token_usage"]) == (None, None, False, None)
    assert (result["component_display_name"], result["component_id"]) == ("Chat Output", "ChatOutput-1")
    json.dumps(ran.response)  # all of it serializes


async def test_streaming_protocol() -> None:
    ran = await run(llm_flow(), "one two", stream=True)
    relevant = [e for e in ran.events if e["event"] in {"add_message", "token", "end"}]
    assert event_names(relevant) == ["add_message", "add_message", "token", "token", "token", "add_message", "end"]
    user, partial, *tokens, complete, _ = [e["data"] for e in relevant]
    assert user["sender"] == "User"
    assert partial["properties"]["state"] == "partial"
    assert partial["text"] == "Echo:" == tokens[0]["chunk"]
    assert [t["chunk"] for t in tokens] == ["Echo:", " one", " two"]
    assert {t["id"] for t in tokens} == {partial["id"], complete["id"]}
    assert complete["properties"]["state"] == "complete"
    assert complete["text"] == "Echo: one two"
    assert complete["properties"]["usage"] == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    assert [m.text for m in ran.ctx.messages.messages] == ["one two", "Echo: one two"]


async def test_no_tokens_without_stream() -> None:
    ran = await run(llm_flow(), "one two", stream=False)
    assert "token" not in event_names(ran.events)
    assert ran.models.model.calls[0]["stream"] is False


async def test_an_unstored_streamed_answer_sends_no_tokens() -> None:
    # Langflow streams through send_message, which only runs when the message is stored
    ran = await run(llm_flow(), "one two", stream=True, tweaks={"ChatOutput-1": {"should_store_message": False}})
    assert [e for e in ran.events if e["event"] == "token"] == []
    assert ran.text() == "Echo: one two"


def _with_value(value_node: dict, output_name: str, output_types: tuple[str, ...]) -> dict:
    return flow(
        [value_node, component_node("ChatOutput-1", "ChatOutput")],
        [edge(value_node["id"], output_name, "ChatOutput-1", "input_value", output_types=output_types, input_types=output_types)],
    )


async def test_chat_output_renders_data_with_its_template() -> None:
    node = component_node("Webhook-1", "Webhook", data=json.dumps({"name": "Ada", "text": "hello"}))
    ran = await run(_with_value(node, "output_data", ("Data",)))
    assert ran.text() == "hello"
    ran = await run(_with_value(node, "output_data", ("Data",)), tweaks={"ChatOutput-1": {"data_template": "{name} says {text}"}})
    assert ran.text() == "Ada says hello"
    assert ran.outputs[0]["results"]["message"]["properties"]["source"]["id"] == "Webhook-1"


async def test_chat_output_renders_a_dataframe_as_a_table() -> None:
    store = InMemoryMessageStore()
    await run(chat_flow(), "earlier", messages=store)
    nodes = [component_node("Memory-1", "Memory"), component_node("ChatOutput-1", "ChatOutput", should_store_message=False)]
    ran = await run(_with_value(nodes[0], "dataframe", ("DataFrame",)), messages=store)
    header, rule, first, second = ran.text().splitlines()
    assert header == "| text | sender | sender_name | session_id | timestamp | id |"
    assert first.startswith("| earlier | User | User | flow-1 |") and second.startswith("| earlier | Machine | AI |")


def test_markdown_tables() -> None:
    from flowless_engine.components import io
    from flowless_engine.schema import DataFrame

    frame = DataFrame(rows=[{"a": 1, "b": "x"}, {"a": 2, "c": "line\nbreak"}])
    assert io._markdown_table(frame) == "| a | b | c |\n| --- | --- | --- |\n| 1 | x |  |\n| 2 |  | line break |"
    assert io._markdown_table(DataFrame()) == ""


async def test_text_input_and_output_never_store_or_announce() -> None:
    nodes = [component_node("TextInput-1", "TextInput", input_value="stored"), component_node("TextOutput-1", "TextOutput")]
    ran = await run(flow(nodes, [edge("TextInput-1", "text", "TextOutput-1", "input_value")]), "typed", input_type="text", output_type="text")
    assert ran.ctx.messages.messages == []
    assert "add_message" not in event_names(ran.events)
    (result,) = ran.outputs
    assert result["results"]["text"]["text"] == "typed"
    assert result["outputs"] == {"text": {"message": "typed", "type": "text"}}
    assert result["messages"] == []
    assert result["artifacts"]["text"]["repr"] == "typed"


async def test_text_output_resolves_a_streamed_answer() -> None:
    nodes = [
        component_node("TextInput-1", "TextInput", input_value="one"),
        component_node("LanguageModelComponent-1", "LanguageModelComponent"),
        component_node("TextOutput-1", "TextOutput"),
    ]
    edges = [edge("TextInput-1", "text", "LanguageModelComponent-1", "input_value"), edge("LanguageModelComponent-1", "text_output", "TextOutput-1", "input_value")]
    ran = await run(flow(nodes, edges), stream=True, output_type="text")
    assert ran.outputs[0]["results"]["text"]["text"] == "Echo: one"


async def test_webhook_payloads() -> None:
    cases = {
        json.dumps({"a": 1}): {"a": 1},
        "not json": {"payload": "not json"},
        "[1, 2]": {"payload": [1, 2]},
        "": {},
    }
    for payload, expected in cases.items():
        node = component_node("Webhook-1", "Webhook", data=payload)
        ran = await run(flow([node]), output_type="debug")
        assert ran.vertex("Webhook-1").values["output_data"].data == expected


async def test_a_webhook_fed_by_an_upstream_message_or_data_parses_it() -> None:
    """Older flows chain a JSON-producing node into a Webhook's payload."""
    nodes = [component_node("TextInput-1", "TextInput", input_value='{"to": "x@example.com"}'), component_node("Webhook-1", "Webhook")]
    ran = await run(flow(nodes, [edge("TextInput-1", "text", "Webhook-1", "data")]), output_type="debug")
    assert ran.vertex("Webhook-1").values["output_data"].data == {"to": "x@example.com"}


async def test_a_message_store_is_only_written_through_the_context() -> None:
    store = InMemoryMessageStore()
    await run(chat_flow(), "first", messages=store)
    await run(chat_flow(), "second", messages=store, session_id="other")
    assert [(m.text, m.session_id) for m in store.messages if m.sender == "User"] == [("first", "flow-1"), ("second", "other")]
    found = await store.get_messages(flow_id="flow-1", session_id="other")
    assert [m.text for m in found] == ["second", "second"]
    assert isinstance(found[0], Message)


async def test_text_input_with_the_global_variable_toggle_reads_the_named_variable() -> None:
    text_input = component_node("TextInput-1", "TextInput", input_value="GREETING", use_global_variable=True)
    text_input["data"]["node"]["template"]["input_value"]["load_from_db"] = True
    nodes = [text_input, component_node("TextOutput-1", "TextOutput")]
    ran = await run(flow(nodes, [edge("TextInput-1", "text", "TextOutput-1", "input_value")]), None, variables={"GREETING": "hello from a variable"})
    assert ran.outputs[0]["results"]["text"]["text"] == "hello from a variable"
