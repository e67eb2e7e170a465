"""The booking core's half of `retention:`: old events lose who and what, idle people go.

- Every event older than `message_bodies_days` loses what a message said and which clinic it
  was about (CONTENT_KEYS); older than `inactive_days`, who it was about (PERSON_KEYS).
- A phone's holder with no activity for `inactive_days` — no booking made, none for a day in
  that time, no hold, no invitation, no block or lifted block, no person added or hidden, and
  nothing the caller counts (gateway.messaging adds "no message") — is anonymised with their
  dependants (gateway.booking.privacy.anonymise). Activity is the household's: any of its
  persons' keeps them all, as they share the phone. Their events are all older than that, so
  the first rule strips them.

Each pass works in bounded batches (every statement far under statement_timeout), at most
BUDGET batches per call, and keeps its progress in a mark (gateway.booking.sql.marks) so the next
call — on any worker — goes on from there. Changes are idempotent and taken under row locks,
so several workers may run the passes at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from gateway.booking.models import Booking, Citizen, Event, Hold, Invitation
from gateway.booking.privacy.anonymise import anonymise
from gateway.booking.sql.marks import NEVER, SKEW, first_id_at, set_mark, take_mark
from gateway.booking.sql.sweep_runs import claim_daily_run
from gateway.booking.sql.uow import UnitOfWork

# Event payload keys that say who a person is, and what a message said or which clinic.
PERSON_KEYS = ("phone", "name", "session_key")
CONTENT_KEYS = ("body", "department")
# sweep_runs rows: how far each events pass has got
CONTENT_MARK, PERSON_MARK = "retention:events:content", "retention:events:person"
EVENT_BATCH = 500
CITIZEN_WINDOW = 1000  # citizen ids looked at per statement
BUDGET = 20  # batches per pass and round: a round never holds up the sweeper's others for long
# Booking days count as activity a little beyond the horizon: the events a booking's day
# brings (no-show, block) come within a day of it, and must fall under the events' horizon.
DAY_MARGIN = timedelta(days=2)
IDLE_DAY, IDLE_AT = "retention:idle", "retention:idle:at"  # sweep_runs rows of the idle pass


def stripped(payload: dict[str, Any], keys: Iterable[str]) -> dict[str, Any] | None:
    """The payload without `keys`, or None when it holds none of them."""
    keys = tuple(keys)
    if not any(key in payload for key in keys):
        return None
    return {key: value for key, value in payload.items() if key not in keys}


# --- events -----------------------------------------------------------------------------------


def strip_old_events(
    writer: sessionmaker[Session],
    keys: Sequence[str],
    before: datetime,
    mark: str,
) -> int:
    """Strip `keys` from events created before `before`, going on from mark `mark`, at most
    BUDGET batches; return how many events changed."""
    changed, after_id, left_at = 0, 0, None
    for _ in range(BUDGET):
        with UnitOfWork(writer) as uow:
            session = uow.session
            since = take_mark(session, mark)
            if since is None or since >= before:
                break  # another worker is on the pass, or it is done
            if since != left_at:  # first batch, or another worker moved the pass on
                after_id = first_id_at(session, Event.id, Event.created_at, since)
            rows = session.execute(
                select(Event.id, Event.created_at, Event.payload)
                .where(Event.id > after_id)
                .order_by(Event.id)
                .limit(EVENT_BATCH)
            ).all()
            due = [
                event_id
                for event_id, created, payload in rows
                if created < before and stripped(payload, keys) is not None
            ]
            changed += _strip(session, due, keys)
            # Past `before` by more than SKEW, no later row can be older: the pass is done.
            done = len(rows) < EVENT_BATCH or any(r[1] >= before + SKEW for r in rows)
            left_at = before if done else min(rows[-1][1], before)
            set_mark(session, mark, left_at)
            uow.commit()
        if done:
            break
        after_id = rows[-1][0]
    return changed


def _strip(session: Session, event_ids: list[int], keys: Sequence[str]) -> int:
    """Strip `keys` from these events, each re-read under its row lock (the relay rewrites
    payloads too)."""
    if not event_ids:
        return 0
    changed = 0
    locked = session.scalars(
        select(Event).where(Event.id.in_(event_ids)).order_by(Event.id).with_for_update()
    )
    for event in locked:
        if (payload := stripped(event.payload, keys)) is not None:
            event.payload = payload
            changed += 1
    session.flush()
    return changed


# --- idle people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Horizon:
    """What counts as recent activity: anything at or after `since`."""

    since: datetime
    also_quiet: tuple[ColumnElement[bool], ...] = ()  # the caller's own conditions (messages)

    def idle(self) -> ColumnElement[bool]:
        """True for a phone's holder (a `citizens` row) with nothing recent of theirs or of
        their dependants (they share the phone)."""
        recent_booking = _of_household(
            Booking.citizen_id,
            or_(
                Booking.created_at >= self.since,
                Booking.day >= (self.since - DAY_MARGIN).date(),
            ),
        )
        recent_invitation = _of_household(
            Invitation.citizen_id, Invitation.created_at >= self.since
        )
        person = aliased(Citizen)
        recent_dependant = exists().where(
            person.guardian_id == Citizen.id,
            or_(
                person.created_at >= self.since,  # added
                person.hidden_at >= self.since,  # hidden, or moved to a phone of their own
                person.strikes_since >= self.since,  # blocked, or their block lifted
            ),
        )
        return and_(
            Citizen.guardian_id.is_(None),
            Citizen.anonymised_at.is_(None),
            Citizen.created_at < self.since,
            or_(Citizen.strikes_since.is_(None), Citizen.strikes_since < self.since),
            not_(recent_booking),
            not_(recent_invitation),
            not_(recent_dependant),
            not_(exists().where(Hold.phone == Citizen.phone)),
            *self.also_quiet,
        )


def _of_household(
    citizen_id: InstrumentedAttribute[int], recent: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Whether a row that is `recent` belongs to the holder (the `citizens` row the query is
    over) or to one of their dependants: two EXISTS, each down an index."""
    dependant = aliased(Citizen)
    own = exists().where(citizen_id == Citizen.id, recent)
    theirs = exists().where(citizen_id == dependant.id, dependant.guardian_id == Citizen.id, recent)
    return or_(own, theirs)


def anonymise_idle(writer: sessionmaker[Session], horizon: Horizon, now: datetime) -> int:
    """Anonymise phone holders idle since `horizon.since`, BUDGET windows of ids per call.

    One pass over the citizens a day (a holder active yesterday may be idle today), resumed
    from mark IDLE_AT: the creation time of the next citizen to look at. Returns how many
    holders it anonymised; their messages and events are older than the horizon, so the
    other passes strip them.
    """
    with UnitOfWork(writer) as uow:
        if claim_daily_run(uow.session, IDLE_DAY, _midnight(now), now):
            set_mark(uow.session, IDLE_AT, NEVER)  # today's pass starts over
            uow.commit()
    done, after_id, left_at = 0, 0, None
    for _ in range(BUDGET):
        with UnitOfWork(writer) as uow:
            session = uow.session
            since = take_mark(session, IDLE_AT)
            if since is None or since >= horizon.since:
                break  # another worker is on the pass, or today's is over
            if since != left_at:
                after_id = first_id_at(session, Citizen.id, Citizen.created_at, since)
            last_id = after_id + CITIZEN_WINDOW
            anonymised = anonymise(session, _idle_in(session, horizon, after_id, last_id), now)
            left_at = _reached(session, last_id, horizon.since)
            set_mark(session, IDLE_AT, left_at)
            uow.commit()
        done += len(anonymised)
        after_id = last_id
    return done


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _reached(session: Session, last_id: int, since: datetime) -> datetime:
    """How far the pass has got after the window ending at `last_id`: the next citizen's
    creation time (`first_id_at` finds it again), or `since` when no citizen left can be idle
    (rows more than SKEW later than one made after `since` are made after it too)."""
    following = session.scalar(
        select(Citizen.created_at).where(Citizen.id > last_id).order_by(Citizen.id).limit(1)
    )
    if following is None or following >= since + SKEW:
        return since
    return min(following, since)


def _idle_in(session: Session, horizon: Horizon, after_id: int, last_id: int) -> list[int]:
    """Idle holders with ids in (after_id, last_id], locked; busy ones are skipped (a request
    of theirs holds the row: not idle after all, or tomorrow's pass takes them). Locked, the
    rows are read again by `anonymise`, which changes only holders not anonymised yet."""
    locked = list(
        session.scalars(
            select(Citizen.id)
            .where(Citizen.id > after_id, Citizen.id <= last_id, horizon.idle())
            .order_by(Citizen.id)
            .with_for_update(skip_locked=True)
        )
    )
    if not locked:
        return []
    # Asked again now that the rows are ours: a booking that committed after the first
    # statement's snapshot but before its lock is seen by a new statement (and every booking
    # takes its citizen's row first, so none can commit from here on).
    again = select(Citizen.id).where(Citizen.id.in_(locked), horizon.idle()).order_by(Citizen.id)
    return list(session.scalars(again))
