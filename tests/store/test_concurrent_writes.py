"""The embedded DynamoDB (moto, shared by every thread of a process) under concurrent writes:
conditional writes and transactions are serialized as DynamoDB serializes them.

Before, two threads could both pass a condition, and a failed transaction's rollback put back
items another request had written in between: concurrent first runs of one session then lost the
earliest epoch start, and a run's messages fell before the session's epoch (the hardening suite's
32-parallel-runs test saw 63 of 64 messages once)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from flowless.settings import Settings
from flowless.store.messages import MessageRepository
from flowless.store.runs import persist_run
from flowless.store.sessions import SessionRepository
from flowless_engine.schema import Message

TENANT = "acme"
THREADS = 16


@pytest.fixture(autouse=True)
def _switch_threads_often() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: without the embedded server's lock
    both tests below fail within a few attempts (as a loaded CI machine once showed)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _runs_at_once(session_id: str) -> None:
    barrier = threading.Barrier(THREADS)

    def one(i: int) -> None:
        question = Message(text=f"q{i}", sender="User", sender_name="User", session_id=session_id, flow_id="f1")
        answer = Message(text=f"a{i}", sender="Machine", sender_name="AI", session_id=session_id, flow_id="f1")
        barrier.wait()
        persist_run(TENANT, "f1", session_id, [question, answer], 30)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(THREADS)))


def _visible(session_id: str) -> int:
    session = SessionRepository(TENANT).get("f1", session_id)
    assert session is not None
    return len(MessageRepository(TENANT).history("f1", session_id, since=session.started_at, limit=1000))


def test_concurrent_first_runs_of_a_session_keep_every_message_in_its_epoch(ddb: Settings) -> None:
    for attempt in range(8):
        _runs_at_once(f"s{attempt}")
        assert len(MessageRepository(TENANT).list(session_id=f"s{attempt}", limit=1000)) == 2 * THREADS
        assert _visible(f"s{attempt}") == 2 * THREADS, f"attempt {attempt}: messages fell before the session's epoch"


def test_only_one_of_concurrent_conditional_creates_succeeds(ddb: Settings, moto_endpoint: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    from flowless.store.models import SessionItem

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    table = SessionItem.Meta.table_name
    for attempt in range(8):
        barrier = threading.Barrier(THREADS)

        def create(i: int) -> bool:
            barrier.wait()
            try:
                client.put_item(
                    TableName=table,
                    Item={"tenant": {"S": TENANT}, "sk": {"S": f"race-{attempt}"}, "writer": {"N": str(i)}},
                    ConditionExpression="attribute_not_exists(sk)",
                )
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                return False
            return True

        with ThreadPoolExecutor(THREADS) as pool:
            assert sum(pool.map(create, range(THREADS))) == 1, f"attempt {attempt}"
