"""The outbox relay: events become one message each per template, never two, in the
citizen's language, through the provider that serves the phone."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.booking.models import Event
from gateway.messaging import relay, statuses
from gateway.messaging.models import Message
from gateway.messaging.relay import TEMPLATES_BY_EVENT, relay_all, relay_once
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.messaging.conftest import (
    MONDAY_8,
    US,
    A,
    B,
    MakeRuntime,
    book,
    dispatcher,
    messages,
)


def unrelayed(rt: Runtime) -> int:
    with rt.reader() as s:
        return s.scalars(
            select(func.count()).select_from(Event).where(Event.relayed_at.is_(None))
        ).one()


def test_a_confirmation_becomes_one_voucher_sms(rt: Runtime) -> None:
    booked = book(rt)
    assert relay_once(rt) == 1
    (m,) = messages(rt)
    assert (m.template, m.language, m.to_phone, m.provider, m.status, m.attempts) == (
        "voucher",
        "en",
        A,
        "africastalking",
        statuses.QUEUED,
        0,
    )
    assert m.body == (
        f"Kenyatta Cardiology Mon 23 Nov 08:00. T-code {booked.tcode[:3]} {booked.tcode[3:6]} "
        f"{booked.tcode[6:]}. Show at kiosk: https://ors.example/v/{booked.voucher_ref}. "
        f"Reply CANCEL {booked.tcode} to cancel"
    )
    assert m.next_attempt_at == m.created_at == rt.clock.now()
    assert dispatcher(rt).pending() == 1  # its send job, after the commit


def test_relaying_again_makes_nothing_new(rt: Runtime) -> None:
    book(rt)
    relay_once(rt)
    assert relay_once(rt) == 0
    assert len(messages(rt)) == 1 and unrelayed(rt) == 0


def test_events_without_templates_are_marked_relayed(rt: Runtime) -> None:
    sid = slot_id(rt, "CARD", datetime(2026, 11, 23, 8, 30))
    rt.booking.hold(A, "s1", sid)
    rt.booking.release_hold(A)
    assert relay_once(rt) == 2  # hold.placed, hold.released
    assert messages(rt) == [] and unrelayed(rt) == 0


@pytest.mark.parametrize(
    ("by", "reason", "template", "says"),
    [
        ("citizen", "", "cancelled", "Your Kenyatta Cardiology appointment on Mon 23 Nov 08:00"),
        ("staff", "Doctor away", "cancelled_by_staff", "Reason: Doctor away."),
    ],
)
def test_a_cancellation_is_announced(
    rt: Runtime, by: str, reason: str, template: str, says: str
) -> None:
    booked = book(rt)
    rt.booking.cancel(booked.ref, by=by, reason=reason, phone=A if by == "citizen" else None)
    relay_once(rt)
    voucher, cancelled = messages(rt)
    assert (voucher.template, cancelled.template) == ("voucher", template)
    assert says in cancelled.body and booked.tcode[:3] in cancelled.body


def test_a_sensitive_department_is_not_named(rt: Runtime) -> None:
    book(rt, dept="CCC", when=datetime(2026, 11, 23, 9, 0))
    relay_once(rt)
    (m,) = messages(rt)
    assert m.body.startswith("Your Kenyatta visit is Mon 23 Nov 09:00.")
    assert "HIV" not in m.body and "Care" not in m.body


def test_the_citizens_language_is_used(rt: Runtime) -> None:
    rt.booking.set_language(B, "sw")
    book(rt, phone=B)
    relay_once(rt)
    (m,) = messages(rt)
    assert m.language == "sw"
    assert "Jumatatu 23 Nov 08:00" in m.body and "Jibu CANCEL" in m.body


def test_the_provider_is_chosen_by_calling_code(make_runtime: MakeRuntime) -> None:
    rt = make_runtime("africastalking", providers_by_prefix={"+1": "twilio"})
    book(rt, phone=A)
    book(rt, phone=US, when=datetime(2026, 11, 23, 8, 30))
    relay_once(rt)
    assert [(m.to_phone, m.provider) for m in messages(rt)] == [
        (A, "africastalking"),
        (US, "twilio"),
    ]


def test_a_backlog_is_relayed_in_batches(rt: Runtime) -> None:
    for minute, phone in [(0, A), (30, B)]:
        book(rt, phone=phone, when=datetime(2026, 11, 23, 8, minute))
    assert relay_once(rt, limit=1) == 1
    assert relay_all(rt, batch=1) == 1
    assert len(messages(rt)) == 2 and unrelayed(rt) == 0


def test_an_event_naming_a_missing_booking_sends_nothing(rt: Runtime) -> None:
    with rt.writer() as s:
        s.add(
            Event(
                type="booking.confirmed",
                subject_id="X",
                payload={"booking_id": 999},
                created_at=rt.clock.now(),
            )
        )
        s.commit()
    assert relay_once(rt) == 1
    assert messages(rt) == [] and unrelayed(rt) == 0


def test_a_broken_event_is_left_for_later_and_does_not_block_the_rest(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    book(rt, phone=A)
    later = book(rt, phone=B, when=datetime(2026, 11, 23, 8, 30))
    rt.booking.cancel(later.ref, by="staff")
    monkeypatch.setitem(relay.COMPOSERS, "cancellation", broken)
    assert relay_once(rt) == 2
    assert relay_all(rt) == 0  # no endless loop over the broken one
    assert [m.to_phone for m in messages(rt)] == [A, B]  # both vouchers went
    assert unrelayed(rt) == 1  # the cancellation waits for a fix
    monkeypatch.undo()
    relay_once(rt)
    assert [m.template for m in messages(rt)] == ["voucher", "voucher", "cancelled_by_staff"]


def test_one_event_never_makes_two_messages_of_a_template(rt: Runtime) -> None:
    book(rt)
    relay_once(rt)
    (m,) = messages(rt)
    with rt.writer() as s, pytest.raises(IntegrityError):
        s.add(
            Message(
                **{
                    c: getattr(m, c)
                    for c in (
                        "event_id",
                        "template",
                        "language",
                        "to_phone",
                        "body",
                        "provider",
                        "status",
                        "attempts",
                        "next_attempt_at",
                        "created_at",
                        "updated_at",
                    )
                }
            )
        )
        s.commit()


def test_the_table_names_only_known_event_types() -> None:
    from gateway.booking.sql.events import EVENT_TYPES

    assert set(TEMPLATES_BY_EVENT) <= EVENT_TYPES
    assert set().union(*TEMPLATES_BY_EVENT.values()) <= set(relay.COMPOSERS)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_relays_racing_on_postgres_relay_each_event_once(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    for i in range(8):
        book(rt, phone=f"+25470000010{i}", when=MONDAY_8 + timedelta(minutes=30 * i))
    others = [make_runtime() for _ in range(4)]
    start = threading.Barrier(len(others))
    counts: list[int] = []

    def run(runtime: Runtime) -> None:
        start.wait()
        counts.append(relay_all(runtime, batch=2))

    threads = [threading.Thread(target=run, args=(o,)) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 8
    assert len(messages(rt)) == 8 and unrelayed(rt) == 0
