from __future__ import annotations

from datetime import timedelta

import pytest
from flowless.settings import Settings
from flowless.store import clock
from flowless.store.errors import NotFound
from flowless.store.messages import MessageRepository, from_engine_message, to_engine_message
from flowless.store.models import MessageItem
from flowless.store.runs import persist_run
from flowless.store.sessions import SessionRepository
from flowless_engine.schema import Message

T0 = clock.now().replace(microsecond=0)


def msg(text: str, *, seconds: float, session: str = "s1", flow: str = "f1", sender: str = "User") -> Message:
    return Message(
        text=text,
        sender=sender,
        sender_name="AI" if sender == "Machine" else "User",
        session_id=session,
        flow_id=flow,
        timestamp=clock.langflow_timestamp(T0 + timedelta(seconds=seconds)),
    )


def store(tenant: str, *messages: Message) -> None:
    for m in messages:
        persist_run(tenant, m.flow_id or "", m.session_id, [m])


@pytest.fixture
def repo(ddb: Settings) -> MessageRepository:
    return MessageRepository("tenant-a")


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def test_engine_message_round_trip(ddb: Settings) -> None:
    original = Message(
        text="hi",
        sender="Machine",
        sender_name="AI",
        session_id="s1",
        flow_id="f1",
        files=["a.png"],
        properties={"icon": "x"},
        content_blocks=[{"title": "t"}],
        context_id="c",
        run_id="r",
        duration=12,
        session_metadata={"k": 1},
        category="message",
    )
    item = from_engine_message("tenant-a", original, clock.after(hours=1))
    assert item.pk == "tenant-a#f1#s1" and item.sk.endswith("#" + original.id)
    item.save()
    assert to_engine_message(MessageItem.get(item.pk, item.sk)) == original


def test_history_is_the_newest_window_oldest_first(repo: MessageRepository) -> None:
    store("tenant-a", *(msg(f"m{i}", seconds=i) for i in range(6)))
    assert texts(repo.history("f1", "s1")) == [f"m{i}" for i in range(6)]
    assert texts(repo.history("f1", "s1", limit=2)) == ["m4", "m5"]
    assert texts(repo.history("f1", "s1", since=T0 + timedelta(seconds=3))) == ["m3", "m4", "m5"]


def test_history_filters_by_sender(repo: MessageRepository) -> None:
    store("tenant-a", msg("q1", seconds=1), msg("a1", seconds=2, sender="Machine"), msg("q2", seconds=3))
    assert texts(repo.history("f1", "s1", sender="Machine")) == ["a1"]
    assert texts(repo.history("f1", "s1", sender_name="User", limit=1)) == ["q2"]


def test_history_without_flow_spans_the_tenants_flows(repo: MessageRepository) -> None:
    store("tenant-a", msg("from f1", seconds=1), msg("from f2", seconds=2, flow="f2"), msg("other", seconds=3, session="s2"))
    assert texts(repo.history(None, "s1")) == ["from f1", "from f2"]
    assert texts(repo.history("f2", "s1")) == ["from f2"]


def test_expired_messages_are_invisible(repo: MessageRepository) -> None:
    store("tenant-a", msg("live", seconds=1))
    expired = msg("expired", seconds=2)
    from_engine_message("tenant-a", expired, clock.now() - timedelta(seconds=1)).save()
    assert texts(repo.history("f1", "s1")) == ["live"]
    assert texts(repo.history(None, "s1")) == ["live"]
    assert texts(repo.list()) == ["live"]
    assert repo.get(expired.id) is None
    with pytest.raises(NotFound):
        repo.update(expired.id, text="x")
    from_engine_message("tenant-a", msg("gone", seconds=3, session="s9"), clock.now() - timedelta(seconds=1)).save()
    assert repo.sessions() == ["s1"]


def test_list_newest_window_then_sorted(repo: MessageRepository) -> None:
    store("tenant-a", *(msg(f"m{i}", seconds=i, session=f"s{i % 2}") for i in range(5)))
    assert texts(repo.list()) == ["m0", "m1", "m2", "m3", "m4"]
    assert texts(repo.list(limit=2)) == ["m3", "m4"]
    assert texts(repo.list(limit=2, offset=1)) == ["m2", "m3"]
    assert texts(repo.list(order="DESC", limit=3)) == ["m4", "m3", "m2"]
    assert texts(repo.list(session_id="s1")) == ["m1", "m3"]
    assert texts(repo.list(session_id="s1", flow_id="f1", order="desc")) == ["m3", "m1"]
    assert texts(repo.list(order_by="session_id")) == ["m0", "m2", "m4", "m1", "m3"]


def test_list_filters(repo: MessageRepository) -> None:
    store("tenant-a", msg("a", seconds=1), msg("b", seconds=2, flow="f2"), msg("c", seconds=3, sender="Machine"))
    assert texts(repo.list(flow_id="f2")) == ["b"]
    assert texts(repo.list(sender="Machine")) == ["c"]
    assert texts(repo.list(sender_name="User", flow_id="f1")) == ["a"]


def test_list_refuses_unknown_ordering(repo: MessageRepository) -> None:
    with pytest.raises(ValueError):
        repo.list(order_by="id")
    with pytest.raises(ValueError):
        repo.list(order="UP")


def test_list_pages_through_dynamodb(ddb: Settings, ddb_calls: list[str]) -> None:
    store("tenant-a", *(msg(f"m{i}", seconds=i) for i in range(7)))
    paged = MessageRepository("tenant-a", page_size=2)
    ddb_calls.clear()
    assert texts(paged.list()) == [f"m{i}" for i in range(7)]
    assert ddb_calls.count("Query") >= 4
    assert texts(paged.history("f1", "s1", limit=5)) == [f"m{i}" for i in range(2, 7)]


def test_get_and_update(repo: MessageRepository) -> None:
    first = msg("hello", seconds=1)
    store("tenant-a", first)
    assert repo.get(first.id) == first
    updated = repo.update(first.id, text="edited", properties={"state": "complete"})
    assert updated.edit is True and updated.text == "edited"
    assert repo.get(first.id) == updated
    assert repo.update(first.id, sender_name="Bob").edit is True  # stays edited
    with pytest.raises(NotFound):
        repo.update("missing", text="x")
    with pytest.raises(TypeError):
        repo.update(first.id, id="other")


def test_update_without_text_change_is_not_an_edit(repo: MessageRepository) -> None:
    first = msg("hello", seconds=1)
    store("tenant-a", first)
    assert repo.update(first.id, text="hello", category="info").edit is False


def test_update_session_moves_the_message(repo: MessageRepository) -> None:
    first = msg("hello", seconds=1)
    store("tenant-a", first)
    repo.update(first.id, session_id="s2")
    assert repo.history("f1", "s1") == [] and texts(repo.history("f1", "s2")) == ["hello"]


def test_delete_ids_ignores_foreign_ids(repo: MessageRepository) -> None:
    mine, other = msg("mine", seconds=1), msg("keep", seconds=2)
    foreign = msg("theirs", seconds=3)
    store("tenant-a", mine, other)
    store("tenant-b", foreign)
    assert repo.delete_ids([mine.id, foreign.id, "unknown"]) == 1
    assert texts(repo.list()) == ["keep"]
    assert texts(MessageRepository("tenant-b").list()) == ["theirs"]
    assert repo.delete_ids([]) == 0


def test_delete_session(repo: MessageRepository) -> None:
    store("tenant-a", msg("a", seconds=1), msg("b", seconds=2, flow="f2"), msg("c", seconds=3, session="s2"))
    assert repo.delete_session("s1", flow_id="f2") == 1
    assert texts(repo.list()) == ["a", "c"]
    assert repo.delete_session("s1") == 1
    assert texts(repo.list()) == ["c"]
    assert SessionRepository("tenant-a").get("f1", "s1") is None


def test_rename_session(repo: MessageRepository) -> None:
    store("tenant-a", msg("a", seconds=1), msg("b", seconds=2, flow="f2"), msg("c", seconds=3, session="s2"))
    started = SessionRepository("tenant-a").get("f1", "s1").started_at
    moved = repo.rename_session("s1", "renamed")
    assert texts(moved) == ["a", "b"] and {m.session_id for m in moved} == {"renamed"}
    assert repo.history(None, "s1") == [] and texts(repo.history(None, "renamed")) == ["a", "b"]
    assert sorted(repo.sessions()) == ["renamed", "s2"]
    # The session record moves too, so the renamed conversation keeps its history in runs.
    assert SessionRepository("tenant-a").get("f1", "renamed").started_at == started
    assert repo.rename_session("nothing", "x") == []


def test_sessions_are_distinct_in_first_message_order(repo: MessageRepository) -> None:
    store("tenant-a", msg("a", seconds=1, session="b"), msg("b", seconds=2, session="a"), msg("c", seconds=3, session="b"))
    store("tenant-a", msg("d", seconds=4, session="z", flow="f2"))
    assert repo.sessions() == ["b", "a", "z"]
    assert repo.sessions(flow_id="f2") == ["z"]


def test_other_tenants_messages_are_invisible(repo: MessageRepository) -> None:
    theirs = msg("secret", seconds=1)
    store("tenant-b", theirs)
    assert repo.get(theirs.id) is None
    assert repo.list() == [] and repo.history("f1", "s1") == [] and repo.history(None, "s1") == []
    assert repo.sessions() == []
    with pytest.raises(NotFound):
        repo.update(theirs.id, text="mine now")
    assert repo.delete_session("s1") == 0
    assert texts(MessageRepository("tenant-b").list()) == ["secret"]
