"""A TransactWrite that can say which of its conditions failed."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from flowless.store.connection import connection

MAX_ITEMS = 100  # DynamoDB's limit per TransactWriteItems call

# PynamoDB sends condition checks, then deletes, puts and updates: the order of DynamoDB's
# cancellation reasons (one per item, in request order).
_SEND_ORDER = ("condition_check", "delete", "save", "update")


class ConditionsFailed(Exception):
    """Raised by `Transaction.commit` with the labels of the operations whose condition failed."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(f"transaction conditions failed: {labels}")
        self.labels = labels


class Transaction:
    """Collects writes, then commits them in one TransactWriteItems call."""

    def __init__(self) -> None:
        self._ops: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = []

    def __len__(self) -> int:
        return len(self._ops)

    def check(self, model_cls: type[Model], hash_key: Any, range_key: Any, condition: Condition, label: str = "") -> None:
        self._ops.append(("condition_check", (model_cls, hash_key, range_key), {"condition": condition}, label))

    def delete(self, item: Model, condition: Condition | None = None, label: str = "") -> None:
        self._ops.append(("delete", (item,), {"condition": condition}, label))

    def put(self, item: Model, condition: Condition | None = None, label: str = "") -> None:
        self._ops.append(("save", (item,), {"condition": condition}, label))

    def update(self, item: Model, actions: list[Action], condition: Condition | None = None, label: str = "") -> None:
        self._ops.append(("update", (item, actions), {"condition": condition}, label))

    def commit(self) -> None:
        if len(self._ops) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} items, got {len(self._ops)}")
        if not self._ops:
            return
        try:
            with TransactWrite(connection=connection()) as tx:
                for method, args, kwargs, _ in self._ops:
                    getattr(tx, method)(*args, **kwargs)
        except TransactWriteError as error:
            if error.cause_response_code != "TransactionCanceledException":
                raise
            ordered = [label for kind in _SEND_ORDER for method, _, _, label in self._ops if method == kind]
            failed = [
                ordered[index]
                for index, reason in enumerate(error.cancellation_reasons)
                if reason is not None and reason.code == "ConditionalCheckFailed" and index < len(ordered)
            ]
            if not failed:
                raise
            raise ConditionsFailed(failed) from error
