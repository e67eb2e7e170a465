"""Reminders: 24 h and 3 h before, once each, at hospital-local times outside quiet hours,
skipped after a cancel, a rebook or a STOP, and once only with several workers racing."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.booking.models import Event
from gateway.messaging.models import ReminderSent
from gateway.messaging.reminders import QuietHours, send_due_reminders
from gateway.runtime import Runtime
from tests.booking.conftest import NAIROBI, POSTGRES_ONLY, at, slot_id
from tests.clocks import clock_of
from tests.messaging.conftest import A, B, C, MakeRuntime
from tests.messaging.sms_phone import deliver, sent_to

QUIET = QuietHours(time(21, 0), time(7, 0))
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0)
WEDNESDAY_9 = datetime(2026, 11, 25, 9, 0)


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    rt = make_runtime()
    rt.booking.generate_slots(4)  # through Thursday
    return rt


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NAIROBI)


@pytest.mark.parametrize(
    ("due", "sent"),
    [
        (local(2026, 11, 24, 10, 0), local(2026, 11, 24, 10, 0)),
        (local(2026, 11, 24, 20, 59), local(2026, 11, 24, 20, 59)),
        (local(2026, 11, 24, 21, 0), local(2026, 11, 24, 20, 59)),
        (local(2026, 11, 24, 23, 30), local(2026, 11, 24, 20, 59)),
        (local(2026, 11, 25, 0, 0), local(2026, 11, 24, 20, 59)),
        (local(2026, 11, 25, 6, 59), local(2026, 11, 24, 20, 59)),
        (local(2026, 11, 25, 7, 0), local(2026, 11, 25, 7, 0)),
    ],
)
def test_a_reminder_due_in_quiet_hours_goes_at_20_59_the_evening_before(
    due: datetime, sent: datetime
) -> None:
    assert QUIET.send_time(due) == sent


def test_quiet_hours_across_a_daylight_saving_change() -> None:
    london = ZoneInfo("Europe/London")
    due = datetime(2026, 3, 29, 1, 30, tzinfo=london)  # the night the clocks go forward
    assert QUIET.send_time(due) == datetime(2026, 3, 28, 20, 59, tzinfo=london)


def reminders_over(
    rt: Runtime, start: datetime, end: datetime, step_minutes: int = 10
) -> list[tuple[datetime, int]]:
    """Run the round every `step_minutes` from `start` to `end` (Nairobi); (local time, offset)."""
    at(rt, *start.timetuple()[:5])
    seen: list[tuple[datetime, int]] = []
    while rt.clock.now() <= end.replace(tzinfo=NAIROBI):
        before = {e.id for e in _reminder_events(rt)}
        send_due_reminders(rt)
        for event in _reminder_events(rt):
            if event.id not in before:
                seen.append((rt.clock.now().astimezone(NAIROBI), event.payload["offset_minutes"]))
        clock_of(rt).advance(minutes=step_minutes)
    return seen


def _reminder_events(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == "booking.reminder")))


def test_a_booking_two_days_ahead_gets_two_reminders_at_the_right_local_times(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")  # Monday 06:00
    seen = reminders_over(rt, datetime(2026, 11, 23, 6, 0), WEDNESDAY_10)
    assert seen == [(local(2026, 11, 24, 10, 0), 24 * 60), (local(2026, 11, 25, 7, 0), 3 * 60)]
    deliver(rt)
    texts = sent_to(rt, A, "reminder")
    assert [m.status for m in texts] == ["sent", "sent"]
    assert texts[0].body.startswith("Reminder: Kenyatta Cardiology Wed 25 Nov 10:00. T-code ")


def test_a_reminder_in_quiet_hours_goes_at_20_59_the_evening_before(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_9), "ussd")  # 3 h before is 06:00
    seen = [
        *reminders_over(rt, datetime(2026, 11, 24, 8, 58), datetime(2026, 11, 24, 9, 1), 1),
        *reminders_over(rt, datetime(2026, 11, 24, 20, 57), datetime(2026, 11, 24, 21, 1), 1),
        *reminders_over(rt, datetime(2026, 11, 24, 21, 0), WEDNESDAY_9, 10),
    ]
    assert seen == [(local(2026, 11, 24, 9, 0), 24 * 60), (local(2026, 11, 24, 20, 59), 3 * 60)]


def test_a_round_at_night_waits_for_the_morning(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_9), "ussd")
    at(rt, 2026, 11, 24, 9, 0)
    assert send_due_reminders(rt) == 1  # the 24 h one
    at(rt, 2026, 11, 24, 22, 0)  # the worker was down at 20:59
    assert send_due_reminders(rt) == 0
    at(rt, 2026, 11, 25, 7, 0)
    assert send_due_reminders(rt) == 1  # still before the appointment


def test_a_late_booking_gets_only_the_reminders_still_ahead(rt: Runtime) -> None:
    at(rt, 2026, 11, 24, 12, 0)  # 22 h before: the 24 h reminder's time has passed
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")
    seen = reminders_over(rt, datetime(2026, 11, 24, 12, 0), WEDNESDAY_10, step_minutes=30)
    assert seen == [(local(2026, 11, 25, 7, 0), 3 * 60)]


def test_after_downtime_only_the_latest_due_reminder_goes(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")
    at(rt, 2026, 11, 25, 8, 0)  # both were due; the worker was down
    assert send_due_reminders(rt) == 1
    with rt.reader() as s:
        outcomes = sorted(s.execute(select(ReminderSent.offset_minutes, ReminderSent.outcome)))
    assert outcomes == [(180, "sent"), (1440, "superseded")]
    assert send_due_reminders(rt) == 0


def test_no_reminder_after_a_cancel(rt: Runtime) -> None:
    booked = rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")
    at(rt, 2026, 11, 24, 10, 0)
    assert send_due_reminders(rt) == 1
    rt.booking.cancel(booked.ref, by="citizen", phone=A)  # after the decision, before the relay
    deliver(rt)
    assert sent_to(rt, A, "reminder") == []
    at(rt, 2026, 11, 25, 7, 0)
    assert send_due_reminders(rt) == 0


def test_a_rebooked_booking_is_reminded_of_its_new_time_only(rt: Runtime) -> None:
    booked = rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")
    rt.booking.rebook(booked.ref, slot_id(rt, "CARD", datetime(2026, 11, 26, 10, 0)), "citizen", A)
    seen = reminders_over(rt, datetime(2026, 11, 24, 9, 0), datetime(2026, 11, 26, 10, 0), 30)
    assert seen == [(local(2026, 11, 25, 10, 0), 24 * 60), (local(2026, 11, 26, 7, 0), 3 * 60)]
    deliver(rt)
    assert all("Thu 26 Nov 10:00" in m.body for m in sent_to(rt, A, "reminder"))


def test_no_reminder_after_stop(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", WEDNESDAY_10), "ussd")
    rt.booking.set_reminders(A, False)
    assert reminders_over(rt, datetime(2026, 11, 23, 6, 0), WEDNESDAY_10, 60) == []


@POSTGRES_ONLY
@pytest.mark.slow
def test_rounds_racing_on_several_workers_send_each_reminder_once(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime()
    rt.booking.generate_slots(4)
    phones = [A, B, C, *(f"+2547000009{i:02d}" for i in range(9))]
    for i, phone in enumerate(phones):  # two per slot, Wednesday 08:00 to 11:30
        start = datetime(2026, 11, 25, 8, 0) + timedelta(minutes=30 * (i % 8))
        rt.booking.book(phone, slot_id(rt, "CARD", start), "ussd")
    at(rt, 2026, 11, 24, 12, 0)  # every 24 h reminder is due
    workers = [make_runtime() for _ in range(4)]
    barrier = threading.Barrier(len(workers))
    counts: list[int] = []
    errors: list[BaseException] = []

    def work(worker: Runtime) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                counts.append(send_due_reminders(worker))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(counts) == len(_reminder_events(rt)) == len(phones)
    deliver(rt)
    for phone in phones:
        assert len(sent_to(rt, phone, "reminder")) == 1
