"""PostgreSQL restarting under USSD sessions: no caller notices (finding 16).

The pool does not ping on checkout (a round trip per request); it polls each pooled
connection's socket instead, finds the server's goodbye there, and connects afresh before
anything is sent (gateway.db_restarts). So after a restart no caller gets the polite END, and
the write engine, unused since the restart, books as if nothing had happened.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from gateway.app import create_app
from gateway.db import make_engine, make_read_engine
from gateway.runtime import Runtime, build_runtime
from tests.booking.conftest import POSTGRES_ONLY
from tests.channels.conftest import DIAL, AtPhone, Row

TO_DEPARTMENTS: list[Row] = [
    (DIAL, ["Hospital appointments", "1 Book"], False),
    ("1", ["Choose city"], False),
    ("2", ["Choose hospital"], False),
    ("1", ["Choose department"], False),
]
TO_BOOKED: list[Row] = [
    ("1", ["choose time"], False),
    ("1", ["1 Confirm"], False),  # the hold: a write
    ("1", ["Booked!"], True),  # the booking: a write
]
APOLOGY = "END Sorry, the service is not available now."


@pytest.fixture
def served(catalog: Runtime) -> Iterator[Runtime]:
    """The catalogue's runtime with write and read engines of their own, as `ors serve` has."""
    writes = make_engine(catalog.engine.url.render_as_string(hide_password=False))
    rt = build_runtime(
        catalog.settings,
        engine=writes,
        read_engine=make_read_engine(writes),
        clock=catalog.clock,
        keys=catalog.keys,
    )
    yield rt
    rt.close()


def restart(rt: Runtime) -> int:
    """Terminate every other session of the test database, as a server restart does, and wait
    (bounded, by the server) until each has gone; the number terminated."""
    outside = create_engine(rt.engine.url, poolclass=NullPool)  # no pooled session of ours
    try:
        with outside.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return sum(1 for gone in ended if gone)
    finally:
        outside.dispose()


@POSTGRES_ONLY
def test_a_database_restart_costs_no_caller_a_polite_end(served: Runtime) -> None:
    app = create_app(runtime=served)
    phones = [AtPhone(app.test_client(), number=f"+25470000{i:04d}") for i in range(5)]
    for phone in phones:
        phone.run(TO_DEPARTMENTS)
    # As a worker that has served in parallel: several pooled connections in each engine.
    _pool_several_connections(served.engine, 4)
    _pool_several_connections(served.booking.read_engine, 4)
    assert restart(served) >= 8

    answers = [phone.press("1") for phone in phones]  # the department's days: a database read
    assert [a for a in answers if not a.startswith("CON ")] == []
    assert "Choose day" in answers[0]

    # The write engine has not been used since the restart: a hold and a booking on it.
    assert APOLOGY not in phones[0].run(TO_BOOKED)


def _pool_several_connections(engine: Engine, count: int) -> None:
    held = [engine.connect() for _ in range(count)]
    for conn in held:
        conn.execute(text("SELECT 1"))
    for conn in held:
        conn.close()
