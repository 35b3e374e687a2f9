"""SQL Database (SQLComponent): a query on a database named by a SQLAlchemy-style URL (usually a
tenant variable), rows back as a table.

- PostgreSQL (`postgresql://`, `postgres://`, `postgresql+<driver>://`) through pg8000: the host
  is resolved and vetted by the engine's network guard and the connection goes to the vetted
  address; `sslmode=require|verify-full` turns TLS on.
- SQLite (`sqlite:///name.db`): only inside `EngineSettings.sqlite_root` (no root: only
  `sqlite:///:memory:`), never an arbitrary path of the machine.
- Read-only unless the node's `read_only` field is off: PostgreSQL sessions are
  `default_transaction_read_only`, SQLite files are opened with `mode=ro`.
- At most MAX_ROWS rows are returned; a statement runs at most the node's timeout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.schema import DataFrame, Message

MAX_ROWS = 10_000
DEFAULT_TIMEOUT_S = 30


@dataclass
class DatabaseURL:
    dialect: str  # "postgresql" | "sqlite"
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    database: str = ""
    path: str = ""
    ssl: str = ""


def parse_database_url(url: str) -> DatabaseURL:
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError("SQL Database: the database URL must look like postgresql://user:pass@host:5432/db or sqlite:///file.db")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        return DatabaseURL("sqlite", path=path.split("?", 1)[0] or ":memory:")
    if dialect in ("postgresql", "postgres", "psql"):
        parts = urlsplit(url)
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise ConfigurationError(f"SQL Database: invalid port in the database URL: {exc}") from exc
        if not parts.hostname:
            raise ConfigurationError("SQL Database: the PostgreSQL URL names no host (Unix sockets are not reachable)")
        query = parse_qs(parts.query)
        return DatabaseURL("postgresql", host=parts.hostname, port=port, user=unquote(parts.username or "postgres"),
                           password=unquote(parts.password or ""), database=unquote(parts.path.lstrip("/")) or "postgres",
                           ssl=(query.get("sslmode") or [""])[0])
    raise ConfigurationError(f"SQL Database: the '{dialect}' dialect is not supported (PostgreSQL and SQLite are)")


def _jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class SQLComponent(ToolModeMixin, Component):
    type_name = "SQLComponent"
    aliases = ("SQLExecutor",)
    display_name = "SQL Database"
    description = "Executes SQL queries on SQLAlchemy-compatible databases."
    category = "data_source"
    icon = "database"
    inputs = (
        Input("database_url", "Database URL", "str", "", input_types=("Message",), required=True,
              info="The URL of the database (a global variable is best).", input_kind="MessageTextInput"),
        Input("query", "SQL Query", "str", "", input_types=("Message",), required=True, multiline=True,
              info="The SQL query to execute.", input_kind="MultilineInput"),
        Input("include_columns", "Include Columns", "bool", True, advanced=True,
              info="Include columns in the result.", input_kind="BoolInput"),
        Input("add_error", "Add Error", "bool", False, advanced=True,
              info="If True, the error will be added to the result", input_kind="BoolInput"),
        Input("read_only", "Read Only", "bool", True, advanced=True,
              info="Run the query in a read-only session (Flowless).", input_kind="BoolInput"),
        Input("timeout", "Timeout", "int", DEFAULT_TIMEOUT_S, advanced=True, info="Seconds a query may run (Flowless).", input_kind="IntInput"),
    )
    outputs = (Output("run_sql_query", "run_sql_query", ("Table",), "Result Table"),)
    tool_fields = {
        "query": ("string", "The SQL query to execute."),
        "include_columns": ("boolean", "Include columns in the result."),
        "add_error": ("boolean", "If True, the error will be added to the result"),
    }

    async def run_sql_query(self) -> DataFrame:
        rows = await self._execute()
        frame = DataFrame(rows=rows)
        self.status = frame
        return frame

    async def build_component(self) -> Message:  # pre-1.2 `Message` output
        try:
            rows = await self._execute()
        except (ValueError, ProviderError) as exc:
            if to_bool(self.param("add_error", False)):
                return Message(text=f"{exc}\n\nError: {exc!r}\n\nQuery: {to_text(self.params.get('query'))}")
            return Message(text=to_text(self.params.get("query")))
        if to_bool(self.param("include_columns", True)):
            return Message(text=str(rows))
        return Message(text=str([tuple(r.values()) for r in rows]))

    def _tool_runner(self, output: Any) -> Any:
        async def run(arguments: dict[str, Any]) -> str:
            for name in self.tool_fields:
                if name in (arguments or {}):
                    self.params[name] = arguments[name]
            try:
                rows = await self._execute()
            except (ValueError, ProviderError, ConfigurationError) as exc:
                message = getattr(exc, "message", str(exc))
                if to_bool(self.param("add_error", False)):
                    return f"Error: {message}\n\nQuery: {to_text(self.params.get('query'))}"
                return f"Error: {message}"
            if not to_bool(self.param("include_columns", True)):
                return json.dumps([list(r.values()) for r in rows], ensure_ascii=False, default=str)
            return json.dumps(rows, ensure_ascii=False, default=str)

        return run

    # ---- execution ------------------------------------------------------------------------------

    async def _execute(self) -> list[dict[str, Any]]:
        url = await self.secret("database_url")
        if isinstance(url, Message):
            url = url.plain_text
        if not url:
            raise ConfigurationError(f"{self.name}: the database URL is empty")
        query = to_text(self.params.get("query")).strip()
        if not query:
            raise ValueError("The SQL query is empty")
        target = parse_database_url(str(url))
        read_only = to_bool(self.param("read_only", True))
        timeout = max(1, to_int(self.param("timeout", DEFAULT_TIMEOUT_S), DEFAULT_TIMEOUT_S))
        if target.dialect == "sqlite":
            return await asyncio.to_thread(self._sqlite, target, query, read_only, timeout)
        return await self._postgres(target, query, read_only, timeout)

    def _sqlite(self, target: DatabaseURL, query: str, read_only: bool, timeout: int) -> list[dict[str, Any]]:
        import sqlite3
        import time

        if target.path == ":memory:":
            uri = "file::memory:"
        else:
            root = self.ctx.settings.sqlite_root
            if not root:
                raise ConfigurationError("SQL Database: SQLite files are not enabled (only sqlite:///:memory:); set FLOWLESS_SQLITE_ROOT")
            base = Path(root).resolve()
            path = (base / target.path).resolve()
            if base not in path.parents:
                raise ConfigurationError("SQL Database: the SQLite file must be inside the configured SQLite folder")
            if not path.is_file():
                raise ConfigurationError(f"SQL Database: no SQLite database named '{target.path}'")
            uri = f"file:{path}?mode={'ro' if read_only else 'rw'}"
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        deadline = time.monotonic() + timeout
        connection.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        try:
            cursor = connection.execute(query)
            columns = [c[0] for c in cursor.description or ()]
            rows = cursor.fetchmany(MAX_ROWS + 1)
            connection.commit()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise ProviderTimeoutError(f"SQL Database: the query ran longer than {timeout}s", provider="SQLite") from exc
            raise ValueError(f"An error occurred while running the SQL Query: {exc}") from exc
        except sqlite3.Error as exc:
            raise ValueError(f"An error occurred while running the SQL Query: {exc}") from exc
        finally:
            connection.close()
        return self._rows(columns, rows)

    async def _postgres(self, target: DatabaseURL, query: str, read_only: bool, timeout: int) -> list[dict[str, Any]]:
        from flowless_engine.http import resolve_vetted

        settings = self.ctx.settings
        try:
            addresses = await resolve_vetted(target.host, target.port, allow_private=settings.allow_private_networks,
                                             allow_loopback=settings.allow_loopback or settings.allow_private_networks)
        except OSError as exc:
            raise ProviderError(f"SQL Database: cannot resolve '{target.host}': {exc}", provider="PostgreSQL") from exc
        return await asyncio.to_thread(self._postgres_sync, target, addresses[0], query, read_only, timeout)

    def _postgres_sync(self, target: DatabaseURL, address: str, query: str, read_only: bool, timeout: int) -> list[dict[str, Any]]:
        import ssl as ssl_module

        import pg8000.dbapi
        import pg8000.exceptions

        ssl_context = None
        if target.ssl in ("require", "verify-ca", "verify-full"):
            ssl_context = ssl_module.create_default_context()
            if target.ssl == "require":
                ssl_context.check_hostname = False
                ssl_context.verify_mode = ssl_module.CERT_NONE
            elif target.ssl == "verify-ca":
                ssl_context.check_hostname = False
        try:
            connection = pg8000.dbapi.connect(
                user=target.user, password=target.password or None, host=address, port=target.port, database=target.database,
                timeout=timeout + 5, ssl_context=ssl_context, application_name="flowless",
                startup_params={"default_transaction_read_only": "on" if read_only else "off", "statement_timeout": str(timeout * 1000)},
            )
        except pg8000.exceptions.InterfaceError as exc:
            raise ProviderError(f"SQL Database: cannot connect to {target.host}:{target.port}: {exc}", provider="PostgreSQL") from exc
        except pg8000.exceptions.DatabaseError as exc:
            raise ConfigurationError(f"SQL Database: PostgreSQL refused the connection: {_pg_message(exc)}") from exc
        try:
            cursor = connection.cursor()
            cursor.execute(query)
            columns = [c[0] for c in cursor.description or ()]
            rows = cursor.fetchmany(MAX_ROWS + 1) if cursor.description else []
            connection.commit()
        except pg8000.exceptions.DatabaseError as exc:
            message = _pg_message(exc)
            if "statement timeout" in message:
                raise ProviderTimeoutError(f"SQL Database: the query ran longer than {timeout}s", provider="PostgreSQL") from exc
            raise ValueError(f"An error occurred while running the SQL Query: {message}") from exc
        except TimeoutError as exc:
            raise ProviderTimeoutError(f"SQL Database: {target.host} did not answer within {timeout}s", provider="PostgreSQL") from exc
        except (pg8000.exceptions.InterfaceError, OSError) as exc:
            raise ProviderError(f"SQL Database: the connection to {target.host} failed: {exc}", provider="PostgreSQL") from exc
        finally:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        return self._rows(columns, rows)

    def _rows(self, columns: list[str], rows: list[Any]) -> list[dict[str, Any]]:
        if len(rows) > MAX_ROWS:
            self.log(f"The query returned more than {MAX_ROWS} rows: only the first {MAX_ROWS} are kept")
            rows = rows[:MAX_ROWS]
        return [{c: _jsonable(v) for c, v in zip(columns, row)} for row in rows]


def _pg_message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, dict):
        return f"{detail.get('M', '')} ({detail.get('C', '')})".strip()
    return str(detail)
