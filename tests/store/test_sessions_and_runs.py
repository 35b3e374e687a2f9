"""Sessions, the session epoch rule, the hot path's single write and the engine's message store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flowless.settings import Settings
from flowless.store import clock
from flowless.store.messages import MessageRepository
from flowless.store.models import MessageItem
from flowless.store.runs import RunMessageStore, persist_run
from flowless.store.sessions import SessionRepository
from flowless_engine.schema import Message

TENANT = "tenant-a"


def msg(text: str, *, session: str = "s1", flow: str | None = "f1", sender: str = "User") -> Message:
    return Message(text=text, sender=sender, sender_name=sender, session_id=session, flow_id=flow)


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


@pytest.fixture
def sessions(ddb: Settings) -> SessionRepository:
    return SessionRepository(TENANT)


def test_touch_keeps_the_epoch_of_a_live_session(sessions: SessionRepository, travel) -> None:
    first = sessions.touch("f1", "s1", ttl_minutes=30)
    travel.advance(minutes=20)
    again = sessions.touch("f1", "s1", ttl_minutes=30)
    assert again.started_at == first.started_at and again.last_activity > first.last_activity
    # TTL attributes hold whole epoch seconds.
    assert timedelta(0) <= again.last_activity + timedelta(minutes=30) - again.expires_at < timedelta(seconds=1)


def test_touch_after_expiry_starts_a_new_epoch(sessions: SessionRepository, travel) -> None:
    first = sessions.touch("f1", "s1", ttl_minutes=30)
    travel.advance(minutes=31)
    assert sessions.get("f1", "s1") is None
    again = sessions.touch("f1", "s1", ttl_minutes=30)
    assert again.started_at > first.expires_at


def test_session_listing_and_deletion(sessions: SessionRepository, travel) -> None:
    sessions.touch("f1", "a", ttl_minutes=5)
    sessions.touch("f2", "a", ttl_minutes=60)
    sessions.touch("f1", "b", ttl_minutes=60)
    assert {(s.flow_id, s.session_id) for s in sessions.list()} == {("f1", "a"), ("f2", "a"), ("f1", "b")}
    assert {s.session_id for s in sessions.list(flow_id="f1")} == {"a", "b"}
    travel.advance(minutes=6)
    assert {(s.flow_id, s.session_id) for s in sessions.list()} == {("f2", "a"), ("f1", "b")}
    assert sessions.delete("a") == 2
    assert SessionRepository("tenant-b").list() == []


def test_persist_run_is_one_call(ddb: Settings, ddb_calls: list[str]) -> None:
    persist_run(TENANT, "f1", "s1", [msg("hi")], 30, session_live=False)  # new session: known
    ddb_calls.clear()
    persist_run(TENANT, "f1", "s1", [msg("again"), msg("answer", sender="Machine")], 30)
    assert ddb_calls == ["TransactWriteItems"]
    ddb_calls.clear()
    persist_run(TENANT, "f1", "s2", [msg("new", session="s2")], 30, session_live=False)
    assert ddb_calls == ["TransactWriteItems"]
    assert texts(MessageRepository(TENANT).history("f1", "s1")) == ["hi", "again", "answer"]


def test_persist_run_on_an_unknown_new_session_retries_as_a_new_epoch(ddb: Settings, ddb_calls: list[str]) -> None:
    started = persist_run(TENANT, "f1", "s1", [msg("hi")], 30)
    assert ddb_calls == ["TransactWriteItems", "TransactWriteItems"]
    assert started is not None and SessionRepository(TENANT).get("f1", "s1") == started
    assert texts(MessageRepository(TENANT).history("f1", "s1")) == ["hi"]


def test_persist_run_sets_ttls(ddb: Settings) -> None:
    at = clock.now()
    session = persist_run(TENANT, "f1", "s1", [msg("hi")], 5, session_live=False, at=at)
    assert timedelta(0) <= at + timedelta(minutes=5) - session.expires_at < timedelta(seconds=1)
    item = next(iter(MessageItem.query(f"{TENANT}#f1#s1")))
    retention = timedelta(hours=ddb.message_retention_hours)
    assert abs(item.expires_at - (at + retention)) < timedelta(seconds=2)


def test_persist_run_chunks_large_runs(ddb: Settings, ddb_calls: list[str]) -> None:
    persist_run(TENANT, "f1", "s1", [msg(f"m{i}") for i in range(150)], 30, session_live=False)
    assert ddb_calls == ["TransactWriteItems", "TransactWriteItems"]
    assert len(MessageRepository(TENANT).history("f1", "s1", limit=500)) == 150


def test_expired_session_hides_its_history(ddb: Settings, travel) -> None:
    persist_run(TENANT, "f1", "s1", [msg("old question"), msg("old answer", sender="Machine")], 30)
    travel.advance(minutes=31)
    persist_run(TENANT, "f1", "s1", [msg("new question", flow=None)], 30)
    repo = MessageRepository(TENANT)
    started = SessionRepository(TENANT).get("f1", "s1").started_at
    assert texts(repo.history("f1", "s1", since=started)) == ["new question"]
    # Still visible to /monitor: messages outlive their session.
    assert texts(repo.list(session_id="s1")) == ["old question", "old answer", "new question"]


async def test_run_store_reads_history_once_and_writes_once(ddb: Settings, ddb_calls: list[str]) -> None:
    persist_run(TENANT, "f1", "s1", [msg("earlier"), msg("reply", sender="Machine")], 30)
    ddb_calls.clear()
    run = RunMessageStore(TENANT, "f1", 30)
    assert texts(await run.get_messages(flow_id="f1", session_id="s1")) == ["earlier", "reply"]
    calls_for_first_read = len(ddb_calls)  # the session, then the history
    assert ddb_calls == ["GetItem", "Query"]
    await run.add_messages([msg("now")])
    assert texts(await run.get_messages(flow_id="f1", session_id="s1")) == ["earlier", "reply", "now"]
    assert texts(await run.get_messages(flow_id="f1", session_id="s1", limit=1)) == ["now"]
    assert texts(await run.get_messages(flow_id="f1", session_id="s1", order="DESC", limit=2)) == ["now", "reply"]
    assert len(ddb_calls) == calls_for_first_read  # served from the run's cache
    await run.add_messages([msg("answer", sender="Machine")])
    ddb_calls.clear()
    await run.flush()
    assert ddb_calls == ["TransactWriteItems"]
    assert texts(MessageRepository(TENANT).history("f1", "s1")) == ["earlier", "reply", "now", "answer"]


async def test_run_store_filters_and_flowless_history(ddb: Settings) -> None:
    persist_run(TENANT, "f1", "s1", [msg("q1"), msg("a1", sender="Machine")], 30)
    persist_run(TENANT, "f2", "s1", [msg("other flow", flow="f2")], 30)
    run = RunMessageStore(TENANT, "f1", 30)
    assert texts(await run.get_messages(flow_id="f1", session_id="s1", sender="Machine")) == ["a1"]
    assert texts(await run.get_messages(flow_id=None, session_id="s1")) == ["q1", "a1", "other flow"]


async def test_run_store_on_an_expired_session(ddb: Settings, travel, ddb_calls: list[str]) -> None:
    persist_run(TENANT, "f1", "s1", [msg("stale")], 30)
    travel.advance(hours=2)
    run = RunMessageStore(TENANT, "f1", 30)
    assert await run.get_messages(flow_id="f1", session_id="s1") == []
    await run.add_messages([msg("fresh"), msg("reply", sender="Machine")])
    ddb_calls.clear()
    await run.flush()
    assert ddb_calls == ["TransactWriteItems"]  # it knew the session was not live: one call
    next_run = RunMessageStore(TENANT, "f1", 30)
    assert texts(await next_run.get_messages(flow_id="f1", session_id="s1")) == ["fresh", "reply"]


async def test_run_store_uses_the_flows_session_ttl(ddb: Settings, travel) -> None:
    run = RunMessageStore(TENANT, "f1", 5)
    await run.add_messages([msg("hi")])
    await run.flush()
    travel.advance(minutes=6)
    assert SessionRepository(TENANT).get("f1", "s1") is None
    assert await RunMessageStore(TENANT, "f1").get_messages(flow_id="f1", session_id="s1") == []


async def test_run_store_defaults_session_and_flow(ddb: Settings) -> None:
    run = RunMessageStore(TENANT, "f1")
    await run.add_messages([Message(text="no ids", sender="User")])
    await run.flush()
    assert texts(MessageRepository(TENANT).history("f1", "f1")) == ["no ids"]
    await run.flush()  # nothing pending: no error, no write


async def test_run_store_resolves_streamed_text(ddb: Settings) -> None:
    from flowless_engine.schema import TextStream

    async def tokens():
        for token in ["stre", "amed"]:
            yield token

    run = RunMessageStore(TENANT, "f1")
    await run.add_messages([Message(text=TextStream(tokens()), sender="Machine", session_id="s1", flow_id="f1")])
    await run.flush()
    assert texts(MessageRepository(TENANT).history("f1", "s1")) == ["streamed"]
