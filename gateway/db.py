"""Engines and session factories for SQLite (embedded) and PostgreSQL (production).

Engines are created per process, after gunicorn or RQ has forked, and never shared between
processes (DESIGN §9): callers build them through the runtime, not at import time.

On this hardware a database round trip costs more CPU than the SQL it carries (bench/results.md),
so the hot paths count them: no ping on every pool checkout, and reads on PostgreSQL in
autocommit (no BEGIN/ROLLBACK around a single SELECT).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled connection older than this is replaced: outlives no server-side idle timeout.
POOL_RECYCLE_SECONDS = 1800


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for a database URL with the pragmas and pool this app needs."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # No pre-ping: it is a round trip on every checkout. A connection the server dropped fails
    # its request once (a polite END on USSD); SQLAlchemy then invalidates the whole pool, so
    # the next request connects afresh.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault(
        "connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: two deferred transactions that both read and
        # then write would deadlock into SQLITE_BUSY instead of queueing behind each other.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_read_engine(engine: Engine) -> Engine:
    """The engine for this process's reads: on PostgreSQL a pool of its own, of autocommit
    connections to the same database (switching a connection to autocommit and back on every
    checkout costs more CPU than the query); on SQLite, `read_only(engine)`."""
    if is_sqlite(engine):
        return read_only(engine)
    return make_engine(
        engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )


def read_only(engine: Engine) -> Engine:
    """Reads on `engine` itself: autocommit on PostgreSQL, a deferred transaction on SQLite.

    A read in autocommit sees committed data statement by statement; the menus' reads are one
    statement each, and nothing written is decided on them (writes re-check under locks).
    """
    if is_sqlite(engine):
        return engine.execution_options(sqlite_begin="DEFERRED")
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def session_factories(
    engine: Engine, read_engine: Engine | None = None
) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Return (writer, reader) session factories; readers take no write lock and no BEGIN."""
    writer = sessionmaker(engine, expire_on_commit=False)
    reader = sessionmaker(read_engine or read_only(engine), expire_on_commit=False)
    return writer, reader


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
