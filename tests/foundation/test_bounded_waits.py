"""Every wait on a dependency is bounded (findings 4 and 6).

A "black hole" is a local listener that accepts connections (the kernel completes the
handshake) and never answers: what a hung server, a half-dead proxy or a firewall that drops
packets looks like from the client. Elapsed-time assertions appear only where the issue
demands a bound, and allow a generous margin over it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy import Engine, bindparam, column, select, table, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.app import create_app
from gateway.booking.sql.driver import DriverStatement
from gateway.clock import FixedClock
from gateway.db import make_engine, make_read_engine
from gateway.runtime import build_runtime
from gateway.settings import Settings, Timeouts
from gateway.voucher_keys import VoucherKeys
from gateway.web import readiness
from tests.booking.conftest import POSTGRES_ONLY

PHONE = "+254700123456"
READYZ_BOUND_SECONDS = 1.0  # the bound: /readyz answers within 1 s whatever hangs
MARGIN_SECONDS = 0.5  # a loaded CI machine schedules threads late


@pytest.fixture
def black_hole() -> Iterator[int]:
    """The port of a listener that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    yield listener.getsockname()[1]
    listener.close()  # the kernel resets the connections it queued: stuck clients wake up


def pg_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def elapsed(since: float) -> float:
    return time.monotonic() - since


# --- PostgreSQL -------------------------------------------------------------------------------


def test_a_connect_to_a_black_hole_gives_up_within_the_connect_timeout(black_hole: int) -> None:
    timeouts = Timeouts(database_connect=2.0)
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{black_hole}/x", timeouts)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="timeout"):
            engine.connect()
    finally:
        engine.dispose()
    assert elapsed(started) < timeouts.database_connect + 1


SERVER_LIMITS = [
    # (PostgreSQL setting, Timeouts field, seconds configured, milliseconds expected)
    ("statement_timeout", "database_statement", 1.5, "1500"),
    ("lock_timeout", "database_lock", 0.75, "750"),
    ("idle_in_transaction_session_timeout", "database_idle_in_transaction", 9.0, "9000"),
]


@POSTGRES_ONLY
@pytest.mark.parametrize("which", ["writes", "reads"])
def test_every_session_carries_the_configured_server_limits(engine: Engine, which: str) -> None:
    timeouts = Timeouts(**{field: seconds for _, field, seconds, _ in SERVER_LIMITS})
    writes = make_engine(pg_url(engine), timeouts)
    reads = make_read_engine(writes, timeouts)
    try:
        with (writes if which == "writes" else reads).connect() as conn:
            found = {
                name: conn.execute(
                    text("SELECT setting FROM pg_settings WHERE name = :n"), {"n": name}
                ).scalar_one()
                for name, *_ in SERVER_LIMITS
            }
    finally:
        writes.dispose()
        reads.dispose()
    assert found == {name: ms for name, _, _, ms in SERVER_LIMITS}


@POSTGRES_ONLY
def test_the_service_runs_under_the_default_limits_and_admin_work_without(
    engine: Engine, settings: Settings, voucher_keys: VoucherKeys
) -> None:
    """Defaults sized for a USSD hop on both of the runtime's engines; none on an engine made
    without Timeouts (creating a database waits for a checkpoint; migrations build indexes)."""
    rt = build_runtime(settings.with_overrides(database_url=pg_url(engine)), keys=voucher_keys)
    admin = make_engine(pg_url(engine))
    shown = {}
    try:
        for label, on in (
            ("writes", rt.engine),
            ("reads", rt.booking.read_engine),
            ("admin", admin),
        ):
            with on.connect() as conn:
                shown[label] = [
                    conn.execute(text(f"SHOW {name}")).scalar_one() for name, *_ in SERVER_LIMITS
                ]
    finally:
        rt.close()
        admin.dispose()
    assert shown == {
        "writes": ["3s", "2s", "10s"],
        "reads": ["3s", "2s", "10s"],
        "admin": ["0"] * 3,
    }


@POSTGRES_ONLY
def test_a_statement_over_the_statement_timeout_is_cancelled(engine: Engine) -> None:
    short = make_engine(pg_url(engine), Timeouts(database_statement=0.2))
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="statement timeout"), short.connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
    finally:
        short.dispose()
    assert elapsed(started) < 5  # cancelled by the server, long before the sleep ends


@POSTGRES_ONLY
def test_waiting_for_a_pooled_connection_is_bounded(engine: Engine) -> None:
    small = make_engine(pg_url(engine), Timeouts(database_pool=0.2), pool_size=1, max_overflow=0)
    try:
        with small.connect(), pytest.raises(PoolTimeout):
            small.connect()  # the only connection is in use
    finally:
        small.dispose()


# --- bound values never reach an error's text (finding 4) --------------------------------------

NO_SUCH_TABLE = table("no_such_table", column("phone"))


def test_every_engine_hides_bound_values(engine: Engine) -> None:
    """Both ways a statement runs: SQLAlchemy's execute, and the driver's fast path."""
    statement = select(NO_SUCH_TABLE.c.phone).where(NO_SUCH_TABLE.c.phone == bindparam("phone"))
    errors = []
    with engine.connect() as conn:
        for run in (
            lambda: conn.execute(statement, {"phone": PHONE}),
            lambda: DriverStatement(statement).run(conn, {"phone": PHONE}),
        ):
            with pytest.raises(DBAPIError) as caught:
                run()
            errors.append(str(caught.value))
            conn.rollback()
    assert engine.hide_parameters
    for error in errors:
        assert "no_such_table" in error  # the statement is still there to debug
        assert PHONE not in error
        assert "parameters" in error and "hidden" in error


# --- Redis --------------------------------------------------------------------------------------


def test_the_runtime_redis_client_gives_up_after_its_timeout(
    settings: Settings, voucher_keys: VoucherKeys, black_hole: int
) -> None:
    timeouts = Timeouts(redis=0.3)
    rt = build_runtime(
        settings.with_overrides(redis_url=f"redis://127.0.0.1:{black_hole}/0", timeouts=timeouts),
        keys=voucher_keys,
    )
    assert rt.redis is not None
    started = time.monotonic()
    try:
        with pytest.raises(RedisTimeout):
            rt.redis.ping()
    finally:
        rt.close()
    assert elapsed(started) < timeouts.redis + 1


# --- /readyz ------------------------------------------------------------------------------------

READYZ_CASES = [
    # (label, database black-holed, Redis black-holed, problems named)
    ("database hangs", True, False, ["database: timeout"]),
    ("redis hangs", False, True, ["redis: timeout"]),
    ("both hang", True, True, ["database: timeout", "redis: timeout"]),
]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ready.sqlite3'}"


@pytest.mark.parametrize(
    ("database_hangs", "redis_hangs", "named"),
    [case[1:] for case in READYZ_CASES],
    ids=[case[0] for case in READYZ_CASES],
)
def test_readyz_answers_503_within_a_second_whatever_hangs(
    settings: Settings,
    clock: FixedClock,
    voucher_keys: VoucherKeys,
    black_hole: int,
    sqlite_url: str,
    database_hangs: bool,
    redis_hangs: bool,
    named: list[str],
) -> None:
    # Bounds far longer than readyz's own, so it is readyz that must not wait for them.
    slow = Timeouts(database_connect=30)
    hole = f"127.0.0.1:{black_hole}"
    database = f"postgresql+psycopg://postgres@{hole}/x" if database_hangs else sqlite_url
    redis = Redis.from_url(f"redis://{hole}/0") if redis_hangs else None  # no timeout at all
    rt = build_runtime(
        settings, engine=make_engine(database, slow), redis=redis, clock=clock, keys=voucher_keys
    )
    client = create_app(runtime=rt).test_client()
    try:
        started = time.monotonic()
        response = client.get("/readyz")
        took = elapsed(started)
    finally:
        # Checks still stuck on the black hole end when the fixture closes the listener (the
        # kernel resets the connections it queued); their clients are left to them till then.
        rt.engine.dispose(close=False)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "problems": named}
    assert took < READYZ_BOUND_SECONDS + MARGIN_SECONDS


def test_readyz_keeps_answering_ready_on_working_dependencies(
    settings: Settings, clock: FixedClock, voucher_keys: VoucherKeys, sqlite_url: str
) -> None:
    rt = build_runtime(settings, engine=make_engine(sqlite_url), clock=clock, keys=voucher_keys)
    client = create_app(runtime=rt).test_client()
    try:
        for _ in range(3 * readiness.CHECK_THREADS):  # the check threads are reused
            response = client.get("/readyz")
            assert (response.status_code, response.get_json()) == (200, {"status": "ready"})
    finally:
        rt.close()
