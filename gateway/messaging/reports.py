"""Delivery reports: move a message's status forward, whatever order reports come in.

A report for a provider id we have not recorded yet (the DLR overtook our own write) is kept
as a PendingReport and applied in the transaction that records the id. A report and the
recording of its id take turns on that id (`serialize`), so whichever comes second applies
the report, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Text, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from gateway.booking.models import Citizen
from gateway.booking.sql.uow import UnitOfWork
from gateway.db import rowcount
from gateway.messaging import statuses
from gateway.messaging.models import Message, PendingReport

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)
APPLIED, UNCHANGED, PENDING, IGNORED = "applied", "unchanged", "pending", "ignored"


@dataclass(frozen=True)
class Report:
    provider: str
    provider_message_id: str
    status: str | None  # ours; None for a provider status that says nothing about delivery
    provider_status: str
    detail: str = ""
    opt_out: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def record_report(runtime: Runtime, report: Report) -> str:
    """Apply a delivery report, or keep it until its message's provider id is recorded."""
    if report.status is None and not report.opt_out:
        return IGNORED
    now = runtime.clock.now()
    with UnitOfWork(runtime.writer) as uow:
        serialize(uow.session, report.provider, report.provider_message_id)
        message = _locked_message(uow.session, report.provider, report.provider_message_id)
        if message is None:
            uow.session.add(_pending(report, now))
            outcome = PENDING
        else:
            outcome = APPLIED if apply(uow.session, message, report, now) else UNCHANGED
        uow.commit()
    return outcome


def serialize(session: Session, provider: str, provider_message_id: str) -> None:
    """Let one transaction at a time deal with this provider id, until it commits.

    A report looks for the message while the sender records the id: without this, on
    PostgreSQL the report could miss the uncommitted id and the sender miss the uncommitted
    report, and the report would wait for ever. (SQLite writers are serial already.)
    """
    if session.get_bind().dialect.name == "postgresql":
        key = f"{provider}:{provider_message_id}"
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def serialize_many(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    """`serialize` for many (provider, provider id) pairs in one statement, in a fixed order
    (so two transactions never wait for each other's locks in opposite orders)."""
    names = sorted({f"{provider}:{provider_id}" for provider, provider_id in keys})
    if names and session.get_bind().dialect.name == "postgresql":
        key = func.unnest(bindparam("keys", names, type_=ARRAY(Text))).column_valued("key")
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def apply(session: Session, message: Message, report: Report, now: datetime) -> bool:
    """Move `message` to the report's status if that is forward; True if anything changed."""
    if report.opt_out:
        mark_opted_out(session, message.to_phone)
    if report.status is None or not statuses.moves_forward(message.status, report.status):
        return False
    message.status, message.provider_status, message.updated_at = (
        report.status,
        report.provider_status[:40],
        now,
    )
    if report.detail:
        message.last_error = report.detail[:300]
    if report.status == statuses.DELIVERED:
        message.delivered_at = now
    return True


def apply_pending(session: Session, provider: str, provider_message_id: str, now: datetime) -> bool:
    """Apply and drop the reports that came before this provider id was recorded; True if any.

    Called in the transaction that records the id, after `serialize`.
    """
    early = list(
        session.scalars(
            select(PendingReport)
            .where(
                PendingReport.provider == provider,
                PendingReport.provider_message_id == provider_message_id,
            )
            .order_by(PendingReport.id)
        )
    )
    message = _locked_message(session, provider, provider_message_id) if early else None
    if message is None:
        return False
    for row in early:
        apply(session, message, _report(row), now)
        session.delete(row)
    return True


def apply_pending_many(
    session: Session, keys: Iterable[tuple[str, str]], now: datetime
) -> list[tuple[str, str]]:
    """`apply_pending` for many (provider, provider id) pairs; looks them up in one query.

    Returns the pairs that had early reports. Called after `serialize_many` of the same ids.
    """
    wanted = {(provider, provider_id) for provider, provider_id in keys if provider_id}
    if not wanted:
        return []
    early = session.execute(
        select(PendingReport.provider, PendingReport.provider_message_id).where(
            PendingReport.provider_message_id.in_(sorted({pid for _, pid in wanted}))
        )
    )
    found = sorted(wanted & {(provider, provider_id) for provider, provider_id in early})
    for provider, provider_id in found:
        apply_pending(session, provider, provider_id, now)
    return found


def purge_pending(runtime: Runtime) -> int:
    """Drop early reports never matched (the message was sent again under a new id)."""
    days = runtime.messaging.policy.pending_report_days
    cutoff = runtime.clock.now() - timedelta(days=days)
    with UnitOfWork(runtime.writer) as uow:
        result = uow.session.execute(
            delete(PendingReport).where(PendingReport.received_at < cutoff)
        )
        uow.commit()
    return rowcount(result)


def mark_opted_out(session: Session, phone: str) -> None:
    """The recipient refuses our SMS (STOP, blacklist): no more reminders to this phone."""
    session.execute(
        update(Citizen)
        .where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
        .values(reminders_opt_out=True)
        .execution_options(synchronize_session=False)
    )


def _locked_message(session: Session, provider: str, provider_message_id: str) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.provider == provider, Message.provider_message_id == provider_message_id)
        .with_for_update()
    ).one_or_none()


def _pending(report: Report, now: datetime) -> PendingReport:
    return PendingReport(
        provider=report.provider,
        provider_message_id=report.provider_message_id,
        status=report.status or "",
        provider_status=report.provider_status[:40],
        detail=report.detail[:300] or None,
        opt_out=report.opt_out,
        raw=report.raw,
        received_at=now,
    )


def _report(row: PendingReport) -> Report:
    return Report(
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        status=row.status or None,
        provider_status=row.provider_status,
        detail=row.detail or "",
        opt_out=row.opt_out,
    )
