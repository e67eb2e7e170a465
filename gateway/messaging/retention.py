"""The messaging half of data lifetime (`retention:`), and the round that runs all of it.

- `message_bodies_days` after creation, delivered or not, a message's body becomes REDACTED
  (one still queued then is refused: it would say nothing); so do the texts of inbound SMS set
  aside as dead letters, and early delivery reports lose the provider's payload.
- `inactive_days` after creation, a message loses its recipient, and so does a dead letter.
- `sweep_retention` is the periodic round: these passes and the booking core's own — events
  stripped, idle citizens anonymised, "idle" including "no message to the phone" (the one
  condition the booking core cannot see).

Passes go by creation time on indexed columns, in bounded batches, each resuming from a mark
(gateway.booking.sql.marks), and every change is conditional: safe on several workers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, exists, not_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from gateway.booking.models import Citizen
from gateway.booking.privacy import retention
from gateway.booking.privacy.anonymise import PLACEHOLDER
from gateway.booking.sql.marks import set_mark, take_mark
from gateway.booking.sql.uow import UnitOfWork
from gateway.db import rowcount
from gateway.messaging import statuses
from gateway.messaging.models import InboundFailure, Message, PendingReport

# Not sent yet: a claimed (`sending`) one too, since a failed or lapsed attempt would retry it.
UNSENT = (statuses.QUEUED, statuses.SENDING)

if TYPE_CHECKING:
    from gateway.runtime import Runtime

REDACTED = "[redacted]"
BATCH = 500
BODIES_MARK, RECIPIENTS_MARK, REPORTS_MARK = (
    "retention:messages:bodies",
    "retention:messages:recipients",
    "retention:reports",
)
log = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    bodies: int = 0  # message bodies redacted
    event_contents: int = 0  # events that lost what was said
    reports: int = 0  # early delivery reports that lost the provider's payload
    dead_letters: int = 0  # inbound SMS set aside that lost their text or phone
    anonymised: int = 0  # idle phone holders anonymised
    recipients: int = 0  # messages that lost their recipient
    event_people: int = 0  # events that lost who they were about
    failed: list[str] = field(default_factory=list)


def sweep_retention(runtime: Runtime) -> RetentionReport:
    """Run every retention pass once (a bounded amount of work each); a pass that fails is
    logged and named, the others still run, and the next round goes on from its mark."""
    writer, now = runtime.writer, runtime.clock.now()
    bodies_before = now - timedelta(days=runtime.settings.retention.message_bodies_days)
    idle_since = now - timedelta(days=runtime.settings.retention.inactive_days)
    horizon = retention.Horizon(idle_since, (no_message_since(idle_since),))
    passes: tuple[tuple[str, Callable[[], int]], ...] = (
        ("bodies", lambda: redact_bodies(writer, bodies_before, now)),
        (
            "event_contents",
            lambda: retention.strip_old_events(
                writer, retention.CONTENT_KEYS, bodies_before, retention.CONTENT_MARK
            ),
        ),
        ("reports", lambda: redact_reports(writer, bodies_before)),
        ("dead_letters", lambda: age_dead_letters(writer, bodies_before, idle_since)),
        ("anonymised", lambda: retention.anonymise_idle(writer, horizon, now)),
        ("recipients", lambda: forget_recipients(writer, idle_since)),
        (
            "event_people",
            lambda: retention.strip_old_events(
                writer, retention.PERSON_KEYS, idle_since, retention.PERSON_MARK
            ),
        ),
    )
    report = RetentionReport()
    for name, run in passes:
        try:
            setattr(report, name, run())
        except Exception:  # one broken pass must not starve the others; the next round retries
            log.exception("retention pass %s failed", name)
            report.failed.append(name)
    return report


def no_message_since(since: datetime) -> ColumnElement[bool]:
    """For the idle-citizen pass: no message to the citizen's phone since `since`."""
    return not_(exists().where(Message.to_phone == Citizen.phone, Message.created_at >= since))


# --- passes by creation time --------------------------------------------------------------------


def redact_bodies(writer: sessionmaker[Session], before: datetime, now: datetime) -> int:
    """Redact the bodies of messages created before `before`; refuse the queued ones (a
    message a month in the queue would now say nothing)."""

    def change(session: Session, ids: list[int]) -> None:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status.in_(UNSENT))
            .values(status=statuses.REFUSED, last_error="refused: retention", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.body != REDACTED)
            .values(body=REDACTED)
            .execution_options(synchronize_session=False)
        )

    return _pass(
        writer,
        BODIES_MARK,
        Message.id,
        Message.created_at,
        before,
        Message.body != REDACTED,
        change,
    )


def forget_recipients(writer: sessionmaker[Session], before: datetime) -> int:
    """Take the recipient off messages created before `before`."""

    def change(session: Session, ids: list[int]) -> None:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.to_phone != PLACEHOLDER)
            .values(to_phone=PLACEHOLDER)
            .execution_options(synchronize_session=False)
        )

    return _pass(
        writer,
        RECIPIENTS_MARK,
        Message.id,
        Message.created_at,
        before,
        Message.to_phone != PLACEHOLDER,
        change,
    )


def redact_reports(writer: sessionmaker[Session], before: datetime) -> int:
    """Empty the provider payload of early delivery reports received before `before` (they
    name the phone); the report itself stays until `purge_pending` drops it."""

    def change(session: Session, ids: list[int]) -> None:
        session.execute(
            update(PendingReport)
            .where(PendingReport.id.in_(ids))
            .values(raw={})
            .execution_options(synchronize_session=False)
        )

    # JSON cannot be compared portably, so the mark alone keeps a report from a second pass.
    return _pass(
        writer,
        REPORTS_MARK,
        PendingReport.id,
        PendingReport.received_at,
        before,
        None,
        change,
    )


def _pass(
    writer: sessionmaker[Session],
    mark: str,
    id_column: InstrumentedAttribute[int],
    created: InstrumentedAttribute[datetime],
    before: datetime,
    pending: ColumnElement[bool] | None,
    change: Callable[[Session, list[int]], None],
) -> int:
    """Apply `change` to rows created before `before` that are still `pending`, a batch at a
    time in creation order from mark `mark`, at most `retention.BUDGET` batches; return how
    many."""
    changed = 0
    for _ in range(retention.BUDGET):
        with UnitOfWork(writer) as uow:
            session = uow.session
            since = take_mark(session, mark)
            if since is None or since >= before:
                break  # another worker is on this pass, or it is done
            query = (
                select(id_column, created)
                .where(created >= since, created < before)
                .order_by(created, id_column)
                .limit(BATCH)
            )
            rows = session.execute(query if pending is None else query.where(pending)).all()
            if rows:
                change(session, [row[0] for row in rows])
            # Rows sharing the last creation time stay in range: `>=` finds the rest next time
            # (`pending` leaves out the ones done; without it, step past that instant).
            if len(rows) < BATCH:
                left_at = before
            else:
                left_at = rows[-1][1] + (
                    timedelta(microseconds=1) if pending is None else timedelta()
                )
            set_mark(session, mark, left_at)
            uow.commit()
        changed += len(rows)
        if left_at >= before:
            break
    return changed


def age_dead_letters(
    writer: sessionmaker[Session], bodies_before: datetime, idle_since: datetime
) -> int:
    """Inbound SMS set aside: the text goes with message bodies, the phone with recipients.

    The table holds only dead letters (a handful), so a plain conditional UPDATE suffices.
    """
    with UnitOfWork(writer) as uow:
        texts = uow.session.execute(
            update(InboundFailure)
            .where(InboundFailure.dead_at < bodies_before, InboundFailure.text != REDACTED)
            .values(text=REDACTED)
            .execution_options(synchronize_session=False)
        )
        phones = uow.session.execute(
            update(InboundFailure)
            .where(InboundFailure.dead_at < idle_since, InboundFailure.phone != PLACEHOLDER)
            .values(phone=PLACEHOLDER)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    return rowcount(texts) + rowcount(phones)
