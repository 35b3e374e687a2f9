"""32 runs at once on one session, through the ASGI app (httpx.AsyncClient + ASGITransport)
with the model answering over real HTTP: every message is stored exactly once, each run's user
message before its answer, none lost, and the session's history (what the next turn sees) holds
them all."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.hardening.conftest import CHAT_FLOW, headers, run_body

RUNS = 32
SESSION = "concurrent-session"


async def run_all(app: Any, flow_id: str, key: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowless", timeout=60) as client:
        return await asyncio.gather(*(
            client.post(f"/api/v1/run/{flow_id}", json=run_body(f"question {i}", session_id=SESSION), headers=headers(key))
            for i in range(RUNS)
        ))


def test_32_concurrent_runs_on_one_session_store_64_messages_once_and_in_order(api_env, files_bucket):
    from flowless.api.app import create_app
    from flowless.store.messages import MessageRepository
    from flowless.store.sessions import SessionRepository
    from tests.hardening.conftest import TENANT

    flow_id = api_env["flows"][CHAT_FLOW]
    api_env["server"].chunk_delay_s = 0.001
    answers = asyncio.run(run_all(create_app(), flow_id, api_env["key"]))
    assert [a.status_code for a in answers] == [200] * RUNS, [a.text for a in answers if a.status_code != 200][:3]

    stored = MessageRepository(TENANT).list(session_id=SESSION, limit=1000)
    assert len(stored) == 2 * RUNS  # no lost writes, nothing written twice
    assert len({m.id for m in stored}) == 2 * RUNS
    by_run: dict[str, dict[str, Any]] = {}
    for message in stored:
        question = message.text if message.sender == "User" else None
        if question:
            by_run.setdefault(question.removeprefix("question "), {})["user"] = message
    for i in range(RUNS):
        assert str(i) in by_run, f"the user message of run {i} is missing"
    answered = [m for m in stored if m.sender == "Machine"]
    assert len(answered) == RUNS
    # Each run's answer names its question (the model echoes it) and comes after it.
    for message in answered:
        index = message.text.rsplit("question ", 1)[1].split()[0].strip(".")
        assert message.timestamp > by_run[index]["user"].timestamp, f"run {index}: answer stored before its question"
    timestamps = [m.timestamp for m in stored]
    assert timestamps == sorted(timestamps)  # the listing is in time order

    # What the next turn of the conversation sees: the session's epoch began no later than the
    # first message, so history holds all 64 (a concurrent run must not restart the epoch).
    session = SessionRepository(TENANT).get(flow_id, SESSION)
    assert session is not None
    history = MessageRepository(TENANT).history(flow_id, SESSION, since=session.started_at, limit=1000)
    assert len(history) == 2 * RUNS


def test_32_runs_in_parallel_threads_like_separate_lambdas_lose_nothing(api_env, files_bucket):
    """Like 32 Lambda containers: each run on its own thread and event loop, so their DynamoDB
    writes really overlap (the session's first write included)."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from flowless.api.app import create_app
    from flowless.store.messages import MessageRepository
    from flowless.store.sessions import SessionRepository
    from tests.hardening.conftest import TENANT

    flow_id = api_env["flows"][CHAT_FLOW]
    app = create_app()
    session_id = "parallel-session"

    def one(i: int) -> int:
        with TestClient(app) as client:
            return client.post(f"/api/v1/run/{flow_id}", json=run_body(f"question {i}", session_id=session_id), headers=headers(api_env["key"])).status_code

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        statuses = list(pool.map(one, range(RUNS)))
    assert statuses == [200] * RUNS
    stored = MessageRepository(TENANT).list(session_id=session_id, limit=1000)
    assert len(stored) == len({m.id for m in stored}) == 2 * RUNS
    session = SessionRepository(TENANT).get(flow_id, session_id)
    history = MessageRepository(TENANT).history(flow_id, session_id, since=session.started_at, limit=1000)
    assert len(history) == 2 * RUNS, f"{2 * RUNS - len(history)} messages fell before the session's epoch"
