"""Core statements run straight on the database driver: the hot paths' executor.

SQLAlchemy's `Connection.execute` costs several times the CPU of the round trip it makes on
the 2-core machine (figures: bench/results.md). The hot statements are still written with
Core — typed, from the models, one SQL for both databases — but each is compiled once per
dialect, and on PostgreSQL (psycopg) run on the connection's driver cursor with the same bind
and result conversions SQLAlchemy would apply (`TypeEngine.bind_processor` /
`result_processor`).

Everywhere else SQLAlchemy executes them: on SQLite (the embedded mode), on an ORM Session
(whose pending objects must be flushed before the statement runs), and on any engine made with
`database.driver: sqlalchemy` (gateway.db.DRIVER_OPTION), the fallback should the fast path
ever misbehave. Every DriverStatement is registered (`registered()`), so a test can run each
one both ways.

When upgrading SQLAlchemy (pyproject.toml pins it below the next minor version): the fast
path relies on these internals, so read their changelog entries and run
tests/booking/test_driver_conformance.py on PostgreSQL, which runs every registered statement
both ways and compares rows and row counts:

- `compiled.bind_names`, `compiled.escaped_bind_names`, `insert_prefetch` / `update_prefetch`
  and the "POSTCOMPILE" marker in `compiled.string`;
- `BindParameter.required`, `.key`, `.effective_value`; a column default's `is_scalar` / `arg`;
- `type.dialect_impl(dialect).bind_processor(dialect)` / `.result_processor(dialect, None)`;
- `DBAPIError.instance(...)`, `dialect.is_disconnect`, `Connection.invalidate`;
- the pool record's `info` (one cursor kept per pooled connection) and `dbapi_connection`.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from gateway.booking.sql.executor import Executor
from gateway.db import DRIVER_OPTION
from gateway.db_restarts import forget_connections

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class Result:
    """Rows (converted as SQLAlchemy would) and the row count of one statement."""

    rows: Sequence[Sequence[Any]]
    rowcount: int

    def __iter__(self) -> Iterator[Sequence[Any]]:
        return iter(self.rows)

    def first(self) -> Sequence[Any] | None:
        return self.rows[0] if self.rows else None

    def one(self) -> Sequence[Any]:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


@dataclass(frozen=True)
class _Prepared:
    sql: str
    names: Mapping[str, str]  # parameter key -> its name in the SQL, where they differ
    binds: Mapping[str, Processor]  # bind name -> conversion to the driver's value
    defaults: Mapping[str, Any]  # values fixed in the statement (constants)
    results: Sequence[tuple[int, Processor]]  # column index -> conversion of the driver's value


class DriverStatement:
    """One Core statement, compiled once per dialect; `run` it on a Connection or Session."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        # the module that built it, to name it in the conformance test's failures
        self.origin: str = sys._getframe(1).f_globals.get("__name__", "?")
        _REGISTRY.append(self)
        self._reads = bool(getattr(statement, "is_select", False))  # a SELECT writes nothing
        # dialect -> parameter names given -> the compiled form (an INSERT's columns are the
        # names given, as with SQLAlchemy's own execution)
        self._prepared: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Prepared]] = (
            weakref.WeakKeyDictionary()
        )

    def run(self, db: Executor, params: Mapping[str, Any] | None = None) -> Result:
        params = params or {}
        if (
            isinstance(db, Session)
            or db.dialect.driver != "psycopg"
            or db.get_execution_options().get(DRIVER_OPTION) == "sqlalchemy"
        ):
            return self._on_sqlalchemy(db, params)
        return self._on_driver(db, params)

    def _on_sqlalchemy(self, db: Executor, params: Mapping[str, Any]) -> Result:
        result = db.execute(self.statement, params)  # type: ignore[call-overload]  # a Session and a Connection overload execute differently; both take this
        rows = result.all() if result.returns_rows else []
        return Result(rows, result.rowcount)

    def _on_driver(self, conn: Connection, params: Mapping[str, Any]) -> Result:
        dialect = conn.dialect
        keys = tuple(sorted(params))
        prepared = self._prepared.get(dialect, {}).get(keys) or self._prepare(dialect, keys)
        if prepared.names:
            values = dict(prepared.defaults)
            for key, value in params.items():
                values[prepared.names.get(key, key)] = value
        else:
            values = {**prepared.defaults, **params}
        for name, convert in prepared.binds.items():
            values[name] = convert(values[name])
        try:
            return _execute(conn, prepared, values)
        except dialect.loaded_dbapi.Error as exc:
            again = self._reads and _may_reconnect(conn)  # asked before invalidation
            error = self._translated(conn, exc, prepared.sql, values)
            if not (again and error.connection_invalidated):
                raise error from exc
        # The server dropped the connection between the checkout check (db_restarts) and this
        # read, e.g. while restarting. A read in autocommit changed nothing: run it once more,
        # on a fresh connection (the invalidated Connection reconnects on its next use).
        try:
            return _execute(conn, prepared, values)
        except dialect.loaded_dbapi.Error as exc:
            raise self._translated(conn, exc, prepared.sql, values) from exc

    def _prepare(self, dialect: Dialect, keys: tuple[str, ...]) -> _Prepared:
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=list(keys))
        if "POSTCOMPILE" in compiled.string:
            raise TypeError("expanding IN parameters cannot run on the driver: use == / OR")
        names: dict[str, str] = {}
        binds: dict[str, Processor] = {}
        defaults: dict[str, Any] = {}
        # Columns left out of an INSERT/UPDATE whose model gives a Python-side default: SQLAlchemy
        # computes those before executing ("prefetch"), so the driver must too, or send NULL.
        prefetch = {
            c.key: c.default for c in (*compiled.insert_prefetch, *compiled.update_prefetch)
        }
        for bind, name in compiled.bind_names.items():
            name = compiled.escaped_bind_names.get(name, name)
            if bind.required:
                if bind.key != name:
                    names[bind.key] = name
            elif bind.key in prefetch:
                defaults[name] = _scalar_default(bind.key, prefetch[bind.key])
            else:  # a value fixed in the statement
                defaults[name] = bind.effective_value
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                binds[name] = convert
        columns: Any = getattr(self.statement, "selected_columns", None)
        if columns is None:
            columns = getattr(self.statement, "exported_columns", ())
        results = []
        for index, column in enumerate(columns):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                results.append((index, convert))
        prepared = _Prepared(compiled.string, names, binds, defaults, tuple(results))
        self._prepared.setdefault(dialect, {})[keys] = prepared
        return prepared

    @staticmethod
    def _translated(
        conn: Connection, exc: Exception, sql: str, values: Mapping[str, Any]
    ) -> DBAPIError:
        """The error SQLAlchemy would raise, with the bound values hidden as the engine says
        (they hold phones and T-codes). A dropped connection means the server went away:
        every pooled connection as old as it is dead too, so this process's pools are replaced
        at once (gateway.db_restarts), as SQLAlchemy does on a disconnect it sees itself."""
        dialect = conn.dialect
        dbapi_connection = conn.connection.dbapi_connection
        disconnect = dialect.is_disconnect(exc, dbapi_connection, None)  # type: ignore[arg-type]  # psycopg exceptions are DB-API errors; the stubs want the generic type
        if disconnect:
            conn.invalidate(exc)
            forget_connections(conn.engine)
        error = DBAPIError.instance(
            sql,
            dict(values),
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=conn.engine.hide_parameters,
            connection_invalidated=disconnect,
            dialect=dialect,
        )
        assert isinstance(error, DBAPIError)  # `exc` is a driver error: wrapped as DBAPIError
        return error


# Every DriverStatement built, in order (they are module constants: the list stays small).
_REGISTRY: list[DriverStatement] = []


def registered() -> tuple[DriverStatement, ...]:
    """Every DriverStatement built so far in this process."""
    return tuple(_REGISTRY)


def _execute(conn: Connection, prepared: _Prepared, values: Mapping[str, Any]) -> Result:
    cursor = _cursor(conn)
    cursor.execute(prepared.sql, values)
    rows = cursor.fetchall() if cursor.description is not None else []
    if prepared.results and rows:
        rows = [_converted(row, prepared.results) for row in rows]
    return Result(rows, cursor.rowcount)


def _scalar_default(column: str, default: Any) -> Any:
    if default is None or not default.is_scalar:
        raise TypeError(f"{column}: a default computed per row cannot run on the driver: pass it")
    return default.arg


def _may_reconnect(conn: Connection) -> bool:
    """Whether a statement that failed on `conn` may run again on a fresh connection: only in
    autocommit (nothing of a transaction is lost) and outside a SQLAlchemy transaction (which
    must be rolled back by its owner before the Connection reconnects)."""
    dbapi_connection: Any = conn.connection.dbapi_connection
    return bool(dbapi_connection.autocommit) and not conn.in_transaction()


def _cursor(conn: Connection) -> Any:
    """The connection's own driver cursor, made once and kept with the pooled connection
    (a new cursor per statement costs a third of a trivial query's CPU)."""
    record = conn.connection
    cursor = record.info.get("driver_cursor")
    if cursor is None or cursor.closed:
        assert record.dbapi_connection is not None
        cursor = record.info["driver_cursor"] = record.dbapi_connection.cursor()
    return cursor


def _converted(row: Sequence[Any], results: Sequence[tuple[int, Processor]]) -> tuple[Any, ...]:
    out = list(row)
    for index, convert in results:
        out[index] = convert(out[index])
    return tuple(out)
