"""Blocks: K no-shows (or citizen cancellations) in W days block booking for B days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import Blocked, NotBlocked
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import (
    at,
    events,
    last_event_id,
    slot_id,
    staff_actions,
    use_rules,
)

A, B = "+254700000001", "+254700000002"


def card(rt: Runtime, day: int, hour: int = 8) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


def blocked_until(rt: Runtime, phone: str = A) -> datetime | None:
    with rt.reader() as s:
        return s.scalars(select(Citizen.blocked_until).where(Citizen.phone == phone)).one()


def miss(rt: Runtime, day: int) -> None:
    """Book CARD 08:00 on `day` (Nov), then sweep at 09:00 that day: a no-show."""
    rt.booking.book(A, card(rt, day), "ussd")
    at(rt, 2026, 11, day, 9, 0)
    rt.booking.sweep()


def test_the_third_no_show_blocks_for_exactly_thirty_days(catalog: Runtime) -> None:
    miss(catalog, 23)
    miss(catalog, 24)
    assert blocked_until(catalog) is None
    catalog.booking.book(A, card(catalog, 25), "ussd")
    at(catalog, 2026, 11, 25, 9, 0, 7)
    before = last_event_id(catalog)
    report = catalog.booking.sweep()
    now = catalog.clock.now()
    assert report.no_shows == 1 and report.blocked == 1
    assert blocked_until(catalog) == now + timedelta(days=30)
    blocked = [e for e in events(catalog, before) if e.type == "citizen.blocked"]
    assert [e.payload["until"] for e in blocked] == [(now + timedelta(days=30)).isoformat()]
    assert blocked[0].payload["because"] == "no_show" and blocked[0].payload["strikes"] == 3
    with pytest.raises(Blocked) as refused:
        catalog.booking.book(A, card(catalog, 27), "ussd")
    assert refused.value.facts == {"until": (now + timedelta(days=30)).date()}
    with pytest.raises(Blocked):
        catalog.booking.hold(A, "s", card(catalog, 27))


def test_no_shows_outside_the_window_do_not_count(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(count=2, window_days=1, block_days=30))
    miss(catalog, 23)
    miss(catalog, 25)  # two days later: the first has left the one-day window
    assert blocked_until(catalog) is None
    miss(catalog, 26)
    assert blocked_until(catalog) is not None


def test_staff_lift_a_block_and_the_slate_is_clean(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    miss(catalog, 23)
    assert blocked_until(catalog) is not None
    before = last_event_id(catalog)
    catalog.booking.unblock(A, "desk-1", "explained: bus strike")
    assert blocked_until(catalog) is None
    assert [e.type for e in events(catalog, before)] == ["citizen.unblocked"]
    assert [(a.actor, a.action, a.subject, a.reason) for a in staff_actions(catalog)] == [
        ("desk-1", "unblock", A, "explained: bus strike")
    ]
    assert catalog.booking.book(A, card(catalog, 24), "ussd").status == "confirmed"
    with pytest.raises(NotBlocked):
        catalog.booking.unblock(A, "desk-1", "again")


def test_a_strike_after_a_lifted_block_counts_afresh(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(count=2, window_days=90, block_days=30))
    miss(catalog, 23)
    miss(catalog, 24)
    catalog.booking.unblock(A, "desk-1", "forgiven")
    miss(catalog, 25)  # the two before the lifted block no longer count: one strike
    assert blocked_until(catalog) is None
    miss(catalog, 26)
    assert blocked_until(catalog) is not None


def test_the_fifth_citizen_cancellation_blocks_for_seven_days(catalog: Runtime) -> None:
    for day in (23, 24, 25, 26):
        done = catalog.booking.book(A, card(catalog, day, 10), "ussd")
        catalog.booking.cancel(done.ref, by="citizen", phone=A)
    staff = catalog.booking.book(A, card(catalog, 27, 10), "ussd")
    catalog.booking.cancel(staff.ref, by="staff", reason="clinic moved")  # not the citizen's
    assert blocked_until(catalog) is None
    fifth = catalog.booking.book(A, card(catalog, 30, 10), "ussd")
    before = last_event_id(catalog)
    catalog.booking.cancel(fifth.ref, by="citizen", phone=A)
    now = catalog.clock.now()
    assert blocked_until(catalog) == now + timedelta(days=7)
    assert [e.type for e in events(catalog, before)] == ["booking.cancelled", "citizen.blocked"]
    with pytest.raises(Blocked) as refused:
        catalog.booking.book(A, card(catalog, 24, 11), "ussd")
    assert refused.value.facts == {"until": (now + timedelta(days=7)).date()}


@pytest.mark.parametrize(
    ("cancellations", "written"),
    [
        (3, ["booking.cancelled"]),
        (4, ["booking.cancelled", "citizen.block_warned"]),  # one short of the block: warned
        (5, ["booking.cancelled", "citizen.blocked"]),  # blocked, so not warned as well
    ],
)
def test_the_cancellation_one_short_of_a_block_warns_once(
    catalog: Runtime, cancellations: int, written: list[str]
) -> None:
    for day in range(23, 23 + cancellations - 1):
        done = catalog.booking.book(A, card(catalog, day, 10), "ussd")
        catalog.booking.cancel(done.ref, by="citizen", phone=A)
        at(catalog, 2026, 11, 23, 7, day - 22)  # each cancellation a minute after the last
    last = catalog.booking.book(A, card(catalog, 30, 10), "ussd")
    before = last_event_id(catalog)
    catalog.booking.cancel(last.ref, by="citizen", phone=A)
    assert [e.type for e in events(catalog, before)] == written
    warned = [e.payload for e in events(catalog, before) if e.type == "citizen.block_warned"]
    # The oldest strike leaves the 30-day window on Wed 23 Dec, Nairobi's calendar.
    expected = {"phone": A, "before": "2026-12-23", "strikes": 4, "block_days": 7}
    warns = written[-1] == "citizen.block_warned"
    assert [{k: p[k] for k in expected} for p in warned] == ([expected] if warns else [])


def test_staff_cancellations_and_a_one_strike_policy_never_warn(catalog: Runtime) -> None:
    use_rules(catalog, cancel_block=BlockPolicy(count=2, window_days=30, block_days=7))
    before = last_event_id(catalog)
    for day in (23, 24):
        done = catalog.booking.book(A, card(catalog, day, 10), "ussd")
        catalog.booking.cancel(done.ref, by="staff", reason="clinic moved")
    use_rules(catalog, cancel_block=BlockPolicy(count=1, window_days=30, block_days=7))
    done = catalog.booking.book(B, card(catalog, 25, 10), "ussd")
    catalog.booking.cancel(done.ref, by="citizen", phone=B)  # blocks at once: nothing to warn of
    assert "citizen.block_warned" not in [e.type for e in events(catalog, before)]


def test_a_disabled_policy_never_blocks(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(enabled=False, count=1))
    miss(catalog, 23)
    assert blocked_until(catalog) is None


def test_a_longer_block_is_not_shortened(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=1))
    catalog.booking.book(A, card(catalog, 23), "ussd")
    later = datetime(2027, 6, 1, tzinfo=UTC)
    with catalog.writer() as s:
        s.scalars(select(Citizen).where(Citizen.phone == A)).one().blocked_until = later
        s.commit()
    at(catalog, 2026, 11, 23, 9, 0)
    assert catalog.booking.sweep().blocked == 0
    assert blocked_until(catalog) == later
