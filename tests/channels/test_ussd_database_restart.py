"""PostgreSQL restarting under a USSD session: at most one polite END, never an HTTP error.

The pool does not ping on checkout (a round trip per request), so the first statement on a
connection the server dropped fails; that failure must become the caller's polite END, and
every pooled connection of the same age must be replaced at once, not one failed caller each.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from gateway.app import create_app
from gateway.runtime import Runtime
from tests.booking.conftest import POSTGRES_ONLY
from tests.channels.conftest import DIAL, AtPhone, Row

TO_DEPARTMENTS: list[Row] = [
    (DIAL, ["Hospital appointments", "1 Book"], False),
    ("1", ["Choose city"], False),
    ("2", ["Choose hospital"], False),
    ("1", ["Choose department"], False),
]
APOLOGY = "END Sorry, the service is not available now."


def drop_every_connection(engine: Engine) -> int:
    """Terminate every other session of the test database, as a server restart would."""
    with engine.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
        )


@POSTGRES_ONLY
def test_a_database_restart_costs_a_session_at_most_one_polite_end(catalog: Runtime) -> None:
    app = create_app(runtime=catalog)
    phones = [AtPhone(app.test_client(), number=f"+25470000{i:04d}") for i in range(5)]
    for phone in phones:
        phone.run(TO_DEPARTMENTS)
    _pool_several_connections(catalog.engine, 4)  # as a worker that has served in parallel
    assert drop_every_connection(_outside_the_pool(catalog)) >= 4

    answers = [phone.press("1") for phone in phones]  # the department's days: a database read
    assert all(a.startswith("CON ") or a.startswith(APOLOGY) for a in answers), answers
    assert sum(a.startswith(APOLOGY) for a in answers) <= 1  # the pool was replaced at once

    again = AtPhone(app.test_client(), number="+254700009999")
    again.run([*TO_DEPARTMENTS, ("1", ["Choose day"], False)])


def _pool_several_connections(engine: Engine, count: int) -> None:
    held = [engine.connect() for _ in range(count)]
    for conn in held:
        conn.execute(text("SELECT 1"))
    for conn in held:
        conn.close()


def _outside_the_pool(rt: Runtime) -> Engine:
    """An engine of its own on the same database, so the terminating session is no pooled one."""
    return create_engine(rt.engine.url, poolclass=NullPool)
