"""Models whose items live in another model's table under their own sort-key prefix.

A companion model declares the attributes of its own items but no table of its own: it follows
its host model (the one in `models.MODELS`, from which the tables are defined) wherever
`flowless.store.configure` points it. The table's key schema is the host's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.connection import TableConnection

from flowless.store.models import TableModel


class CompanionModel(TableModel):
    """Subclasses set `host` to the table's model and `Meta = _meta(<the host's table>)`."""

    host: ClassVar[type[TableModel]]

    @classmethod
    def _get_connection(cls) -> TableConnection:
        own: Any = cls.Meta
        host: Any = cls.host.Meta
        target = (host.table_name, host.region, host.host)
        if (own.table_name, own.region, own.host) != target:
            own.table_name, own.region, own.host = target
            cls._connection = None
        return super()._get_connection()
