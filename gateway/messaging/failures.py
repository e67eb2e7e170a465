"""Describe a failure for a row that operators read: the exception's class and a short reason.

What is stored (`events.last_error`, `messages.last_error`, `inbound_failures.last_error`) is
read by more people, and kept longer, than a log line. So the reason is the driver's own first
line (never SQLAlchemy's `[SQL …] [parameters …]` tail, which carries phones and SMS text),
masked like a log line, without NUL bytes (PostgreSQL text refuses them), and cut short.
"""

from __future__ import annotations

from gateway.logs import mask

LIMIT = 300  # the columns' size
REASON = 200


def describe(exc: BaseException) -> str:
    """`StringDataRightTruncation: value too long for type character varying(20)`."""
    cause = getattr(exc, "orig", None) or exc  # a DBAPIError: what the driver said
    lines = (line.strip() for line in str(cause).replace("\x00", "").splitlines())
    reason = mask(next((line for line in lines if line), ""))[:REASON]
    name = type(cause).__name__
    return (f"{name}: {reason}" if reason else name)[:LIMIT]


# PostgreSQL errors that say nothing about the row, only about the moment: a lock or statement
# timeout, a serialization failure, a deadlock. They are retried without being counted, so
# a minute of contention never turns a voucher into a dead letter.
TRANSIENT_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """True for a failure another attempt may not meet (see TRANSIENT_SQLSTATES), or a
    dropped connection."""
    if getattr(exc, "connection_invalidated", False):
        return True
    cause = getattr(exc, "orig", None) or exc
    return getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES
