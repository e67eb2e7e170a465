"""Engines and session factories for SQLite (embedded) and PostgreSQL (production).

Engines are created per process, after gunicorn or RQ has forked, and never shared between
processes: callers build them through the runtime, not at import time.

On this hardware a database round trip costs more CPU than the SQL it carries (bench/results.md),
so the hot paths count them: no ping on every pool checkout (a restarted server is noticed
without one, gateway.db_restarts), and reads on PostgreSQL in autocommit (no BEGIN/ROLLBACK
around a single SELECT).

Every wait on PostgreSQL is bounded (settings.Timeouts): connecting, a statement, a lock, a
transaction left idle, and waiting for a free pooled connection. No engine ever puts a bound
value (a phone, a T-code, an SMS body) into an error's text: `hide_parameters` everywhere.

Every engine carries the `database.driver` setting as the execution option DRIVER_OPTION:
"fast" lets the hot statements run on the psycopg cursor (gateway.booking.sql.driver),
"sqlalchemy" makes them take SQLAlchemy's own execution everywhere.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from gateway.db_restarts import pair, watch_for_restarts
from gateway.settings import Timeouts

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled connection older than this is replaced: outlives no server-side idle timeout.
POOL_RECYCLE_SECONDS = 1800
# TCP keepalive: the kernel closes an idle connection whose server vanished without a word (host
# down, a partition) after about idle + interval × count seconds; the checkout check then
# sees it closed and replaces it before a request uses it.
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 3
KEEPALIVE_COUNT = 3
# The execution option naming how DriverStatements run on this engine: one of DRIVERS.
DRIVER_OPTION = "ors_driver"
DRIVERS = ("fast", "sqlalchemy")


def make_engine(
    url: str, timeouts: Timeouts | None = None, driver: str = "fast", **kwargs: Any
) -> Engine:
    """Create the engine for a database URL with the pragmas, pool and bounds this app needs.

    `driver` is the `database.driver` setting, kept on the engine (see `with_driver`).

    Waiting to connect, for a pooled connection and on a silent peer is always bounded (by
    `timeouts`, else the defaults). The server-side limits on statements, locks and idle
    transactions are set only when `timeouts` is given, as the runtime does for the service:
    they are sized for a USSD hop, and administrative work (creating a database, which waits
    for a checkpoint; a migration building an index) runs longer by nature.
    """
    kwargs.setdefault("hide_parameters", True)
    kwargs["execution_options"] = {
        **kwargs.get("execution_options", {}),
        DRIVER_OPTION: _checked_driver(driver),
    }
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    bounds = timeouts or Timeouts()
    connect_args = postgres_connect_args(bounds, server_limits=timeouts is not None)
    kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}
    kwargs.setdefault("pool_pre_ping", False)  # a round trip per checkout: see db_restarts
    kwargs.setdefault("pool_timeout", bounds.database_pool)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    watch_for_restarts(engine)
    return engine


def with_driver(engine: Engine, driver: str) -> Engine:
    """`engine` (the same pool) with DriverStatements running as `driver` says."""
    return engine.execution_options(**{DRIVER_OPTION: _checked_driver(driver)})


def driver_of(engine: Engine) -> str:
    """How DriverStatements run on `engine`: "fast" unless it was made otherwise."""
    return str(engine.get_execution_options().get(DRIVER_OPTION, "fast"))


def _checked_driver(driver: str) -> str:
    if driver not in DRIVERS:
        raise ValueError(f"database.driver: expected one of {', '.join(DRIVERS)}, got {driver!r}")
    return driver


def postgres_connect_args(timeouts: Timeouts, server_limits: bool = True) -> dict[str, Any]:
    """libpq parameters bounding every wait on the server, set once per connection.

    The server-side limits travel in the startup packet (`options`), so they cost no round
    trip. They bound a slow server; a silent one (host down, a partition) is bounded by TCP:
    keepalive while the connection is idle, `tcp_user_timeout` while a statement is unanswered
    at the TCP level (sent and never acknowledged).
    """
    args: dict[str, Any] = {
        # libpq counts whole seconds (and takes 1 as 2); 0 would mean "wait for ever".
        "connect_timeout": max(1, math.ceil(timeouts.database_connect)),
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVE_COUNT,
        # A living server's kernel acknowledges within milliseconds, however slow the query:
        # this long without an acknowledgement means the peer is gone.
        "tcp_user_timeout": _ms(timeouts.database_connect + timeouts.database_statement),
    }
    if server_limits:
        limits = {
            "statement_timeout": timeouts.database_statement,
            "lock_timeout": timeouts.database_lock,
            "idle_in_transaction_session_timeout": timeouts.database_idle_in_transaction,
        }
        args["options"] = " ".join(f"-c {name}={_ms(sec)}" for name, sec in limits.items())
    return args


def _ms(seconds: float) -> int:
    """Milliseconds for a server limit; at least 1, since PostgreSQL reads 0 as "no limit"."""
    return max(1, round(seconds * 1000))


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


def make_read_engine(engine: Engine, timeouts: Timeouts | None = None) -> Engine:
    """The engine for this process's reads: on PostgreSQL a pool of its own, of autocommit
    connections to the same database (switching a connection to autocommit and back on every
    checkout costs more CPU than the query); on SQLite, `read_only(engine)`.

    The two PostgreSQL engines are paired: a dropped connection seen by either disposes both.
    """
    if is_sqlite(engine):
        return read_only(engine)
    reads = make_engine(
        engine.url.render_as_string(hide_password=False),
        timeouts,
        driver_of(engine),
        isolation_level="AUTOCOMMIT",
    )
    pair(engine, reads)
    return reads


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


def rowcount(result: Result[Any]) -> int:
    """Return how many rows an UPDATE, DELETE or INSERT matched.

    Session.execute types every result as a plain Result; a DML statement's is a CursorResult.
    """
    return cast(CursorResult[Any], result).rowcount
