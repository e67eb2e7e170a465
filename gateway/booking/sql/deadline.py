"""The deadline of the caller waiting on this work: a commit after it is refused.

A USSD hop, IVR turn or kiosk call runs on a worker thread while its request thread waits
only until the hop's deadline and then answers an apology (gateway.web.hops). The work may
still finish later on its worker; it must not then commit a hold or a booking the caller was
never told about. The deadline travels in a context variable, set only around such work, and
every engine given to `refuse_late_commits` refuses a commit that comes after it, whichever
use case (Core `engine.begin()` or an ORM unit of work) asks for it.

A COMMIT already sent when the deadline passes cannot be taken back: the caller then heard an
apology for a booking that exists, and the voucher SMS, written in the same transaction,
tells them about it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine, event

_deadline: ContextVar[float | None] = ContextVar("ors_commit_deadline", default=None)


class LateCommit(Exception):
    """The caller was answered before this work could commit: it leaves nothing behind."""


@contextmanager
def commit_deadline(at: float) -> Iterator[None]:
    """Within this block, guarded engines refuse to commit after `at` (`time.monotonic()`)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def refuse_late_commits(engine: Engine) -> None:
    """Make `engine`, and the copies made with `execution_options`, check the deadline on commit."""
    if not event.contains(engine, "commit", _refuse_if_late):
        event.listen(engine, "commit", _refuse_if_late)


def _refuse_if_late(conn: Connection) -> None:
    at = _deadline.get()
    if at is None or time.monotonic() < at:
        return
    # Raising here stops the COMMIT, but SQLAlchemy has already set its transaction aside, and
    # an ORM session then hands the connection back to the pool without resetting it: still
    # inside the transaction, whose writes the next user's commit would keep. Roll back on
    # the driver first, so nothing of this work survives on the pooled connection.
    driver = conn.connection.dbapi_connection
    if driver is not None:
        driver.rollback()
    raise LateCommit("the caller's deadline passed before the commit")
