"""A PostgreSQL restart costs no request (finding 16), and no round trip while none happens.

The restart is played by terminating backends from a connection outside the pools, and
waiting until they have gone, as a restarted server's connections have. The write and read
engines are built as `ors serve` builds them: two pools, paired (gateway.db.make_read_engine).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, QueuePool

from gateway.booking.models import Citizen
from gateway.booking.sql.driver import DriverStatement
from gateway.db import make_engine, make_read_engine
from tests.booking.conftest import POSTGRES_ONLY

PHONE = "+254700765432"
CITIZEN_ID = DriverStatement(select(Citizen.id).where(Citizen.phone == bindparam("phone")))
NEW_CITIZEN = DriverStatement(insert(Citizen))
NEW_ROW = {
    "phone": PHONE,
    "reminders_opt_out": False,
    "created_at": datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
}


@pytest.fixture
def engines(engine: Engine) -> Iterator[tuple[Engine, Engine]]:
    """(writes, reads) on the test database, as build_runtime makes them."""
    writes = make_engine(engine.url.render_as_string(hide_password=False))
    reads = make_read_engine(writes)
    yield writes, reads
    writes.dispose()
    reads.dispose()


@pytest.fixture
def outside(engine: Engine) -> Iterator[Engine]:
    """An engine of no pool of ours: the administrator who restarts the server."""
    admin = create_engine(engine.url, poolclass=NullPool)
    yield admin
    admin.dispose()


def backend(conn: Connection) -> int:
    """The server process behind a connection (known to the client: no round trip)."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    return raw.info.backend_pid


def terminate(outside: Engine, pids: list[int]) -> None:
    """End these backends as a restart does, and wait (bounded) until each has gone."""
    with outside.connect() as conn:
        ended = conn.execute(
            text("SELECT pg_terminate_backend(pid, 5000) FROM unnest(CAST(:pids AS int[])) pid"),
            {"pids": pids},
        ).scalars()
        assert all(ended), "a backend outlived its termination by 5 s"


def pooled_backends(engine: Engine, count: int) -> list[int]:
    """Open `count` connections at once, then give them back to the pool; their backends."""
    held = [engine.connect() for _ in range(count)]
    pids = [backend(conn) for conn in held]
    for conn in held:
        conn.close()
    return pids


def idle_connections(engine: Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedin()


def statements_on(engine: Engine) -> list[str]:
    """Record every statement SQLAlchemy sends on `engine` from now on (pings included)."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return sent


@POSTGRES_ONLY
@pytest.mark.parametrize("which", ["writes", "reads"])
def test_a_pooled_connection_the_server_closed_is_replaced_before_use(
    engines: tuple[Engine, Engine], outside: Engine, which: str
) -> None:
    engine = dict(zip(("writes", "reads"), engines, strict=True))[which]
    pids = pooled_backends(engine, 3)
    terminate(outside, pids)
    sent = statements_on(engine)
    for _ in pids:  # every pooled connection, one after another
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert backend(conn) not in pids
    assert sent == ["SELECT 1"] * len(pids)  # no ping, no failed attempt


@POSTGRES_ONLY
def test_a_living_pooled_connection_is_kept(engines: tuple[Engine, Engine]) -> None:
    writes, _ = engines
    [pid] = pooled_backends(writes, 1)
    for _ in range(3):
        with writes.connect() as conn:
            assert backend(conn) == pid


@POSTGRES_ONLY
def test_a_read_dropped_after_checkout_runs_again_on_a_fresh_connection(
    engines: tuple[Engine, Engine], outside: Engine
) -> None:
    _, reads = engines
    with reads.connect() as conn:  # checked out while the server was still there
        dropped = backend(conn)
        terminate(outside, [dropped])
        assert CITIZEN_ID.run(conn, {"phone": PHONE}).rows == []
        assert backend(conn) != dropped


@POSTGRES_ONLY
def test_a_write_dropped_after_checkout_fails_once_and_renews_both_pools(
    engines: tuple[Engine, Engine], outside: Engine
) -> None:
    writes, reads = engines
    read_pids = pooled_backends(reads, 2)
    with pytest.raises(DBAPIError) as caught, writes.begin() as conn:
        terminate(outside, [backend(conn)])
        NEW_CITIZEN.run(conn, NEW_ROW)  # sent to a server that had gone: not re-run
    assert caught.value.connection_invalidated
    assert idle_connections(reads) == 0  # the read pool's connections were disposed with it
    with reads.connect() as conn:
        assert backend(conn) not in read_pids
        count = select(func.count()).select_from(Citizen).where(Citizen.phone == PHONE)
        assert conn.execute(count).scalar_one() == 0
    with writes.begin() as conn:  # the next write finds a fresh connection
        NEW_CITIZEN.run(conn, NEW_ROW)


@POSTGRES_ONLY
def test_a_disconnect_seen_by_sqlalchemy_renews_both_pools(
    engines: tuple[Engine, Engine], outside: Engine
) -> None:
    writes, reads = engines
    write_pids = pooled_backends(writes, 2)
    with pytest.raises(DBAPIError) as caught, reads.connect() as conn:
        terminate(outside, [backend(conn)])
        conn.execute(text("SELECT 1"))  # SQLAlchemy's own execute: no retry of its own
    assert caught.value.connection_invalidated
    assert idle_connections(writes) == 0
    with writes.connect() as conn:
        assert backend(conn) not in write_pids
