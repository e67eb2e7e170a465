"""A guarded engine refuses a commit after the caller's deadline, and keeps nothing of it.

Every way the gateway commits is covered: Core (`engine.begin()`, the hot paths), an ORM unit
of work, and a plain ORM session. The engine here has a single pooled connection, so the commit after a
refused one runs on the very connection the refused work used: it must not carry the late
writes along.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import sessionmaker

from gateway.booking.models import Citizen
from gateway.booking.sql.deadline import LateCommit, commit_deadline, refuse_late_commits
from gateway.booking.sql.uow import UnitOfWork
from gateway.db import make_engine

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def core_write(engine: Engine, phone: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Citizen).values(phone=phone, created_at=NOW))


def orm_write(engine: Engine, phone: str) -> None:
    with UnitOfWork(sessionmaker(engine)) as uow:
        uow.session.add(Citizen(phone=phone, created_at=NOW))
        uow.commit()


def session_write(engine: Engine, phone: str) -> None:
    """A plain ORM session, closed without an explicit rollback (as `with writer() as s:`)."""
    with sessionmaker(engine)() as session:
        session.add(Citizen(phone=phone, created_at=NOW))
        session.commit()


WRITES: dict[str, Callable[[Engine, str], None]] = {
    "core": core_write,
    "unit_of_work": orm_write,
    "session": session_write,
}


@pytest.fixture
def one_connection(engine: Engine) -> Iterator[Engine]:
    """An engine on the test database with one pooled connection, refusing late commits."""
    url = engine.url.render_as_string(hide_password=False)
    single = make_engine(url, pool_size=1, max_overflow=0)
    refuse_late_commits(single)
    yield single
    single.dispose()


def phones(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(Citizen.phone)))


@pytest.mark.parametrize("way", list(WRITES))
def test_a_commit_after_the_deadline_is_refused_and_leaves_nothing(
    one_connection: Engine, way: str
) -> None:
    with commit_deadline(time.monotonic() - 0.001), pytest.raises(LateCommit):
        WRITES[way](one_connection, "+254700000001")

    core_write(one_connection, "+254700000002")  # the same pooled connection, no deadline

    assert phones(one_connection) == {"+254700000002"}


@pytest.mark.parametrize("way", list(WRITES))
def test_a_commit_before_the_deadline_or_without_one_goes_through(
    one_connection: Engine, way: str
) -> None:
    with commit_deadline(time.monotonic() + 60):
        WRITES[way](one_connection, "+254700000001")
    WRITES[way](one_connection, "+254700000002")

    assert phones(one_connection) == {"+254700000001", "+254700000002"}


def test_guarding_twice_checks_once(one_connection: Engine) -> None:
    refuse_late_commits(one_connection)  # a second app on the same engine
    with commit_deadline(time.monotonic() - 0.001), pytest.raises(LateCommit):
        core_write(one_connection, "+254700000001")
    with one_connection.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Citizen)) == 0
