"""Each event constructor writes the payload its readers (relay, composers, retention) expect."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from gateway.booking.domain import events
from gateway.booking.domain.events import NewEvent

AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
P = "+254700000001"

CASES: list[tuple[NewEvent, str, str, dict[str, Any]]] = [
    (
        events.hold_placed(5, slot_id=9, phone=P, expires_at=AT),
        "hold.placed", "5", {"slot_id": 9, "phone": P, "expires_at": AT.isoformat()},
    ),
    (events.hold_released(5, slot_id=9, phone=P), "hold.released", "5", {"slot_id": 9, "phone": P}),
    (events.hold_expired(5, slot_id=9, phone=P), "hold.expired", "5", {"slot_id": 9, "phone": P}),
    (
        events.booking_confirmed(
            "R1", booking_id=1, slot_id=9, citizen_id=3, phone=P, channel="ussd", voucher_id=4
        ),
        "booking.confirmed", "R1",
        {"booking_id": 1, "slot_id": 9, "citizen_id": 3, "phone": P, "channel": "ussd", "voucher_id": 4},
    ),
    (
        events.booking_confirmed(
            "R1", booking_id=1, slot_id=9, citizen_id=3, phone=P, channel="ivr", voucher_id=4,
            unconfirmed=True, rebooked_from="R0",
        ),
        "booking.confirmed", "R1",
        {"booking_id": 1, "slot_id": 9, "citizen_id": 3, "phone": P, "channel": "ivr",
         "voucher_id": 4, "unconfirmed": True, "rebooked_from": "R0"},
    ),
    (
        events.booking_cancelled("R1", booking_id=1, by="staff", reason="x" * 300, phone=P),
        "booking.cancelled", "R1", {"booking_id": 1, "by": "staff", "reason": "x" * 200, "phone": P},
    ),
    (
        events.booking_cancelled(
            "R1", booking_id=1, by="system", reason="", phone=P, rebooked_to="R2", because="unconfirmed"
        ),
        "booking.cancelled", "R1",
        {"booking_id": 1, "by": "system", "reason": "", "phone": P, "rebooked_to": "R2",
         "because": "unconfirmed"},
    ),
    (
        events.booking_rebooked(
            "R1", booking_id=1, old_slot_id=8, slot_id=9, voucher_id=5, replaced_voucher_id=None,
            by="citizen", phone=P,
        ),
        "booking.rebooked", "R1",
        {"booking_id": 1, "old_slot_id": 8, "slot_id": 9, "voucher_id": 5,
         "replaced_voucher_id": None, "by": "citizen", "phone": P},
    ),
    (
        events.booking_checked_in("R1", booking_id=1, queue_number=7, at="kiosk", kiosk_id=4),
        "booking.checked_in", "R1", {"booking_id": 1, "queue_number": 7, "at": "kiosk", "kiosk_id": 4},
    ),
    (
        events.booking_checked_in("R1", booking_id=1, queue_number=7, at="desk"),
        "booking.checked_in", "R1",
        {"booking_id": 1, "queue_number": 7, "at": "desk", "kiosk_id": None},
    ),
    (
        events.booking_no_show("R1", booking_id=1, citizen_id=3, phone=P),
        "booking.no_show", "R1", {"booking_id": 1, "citizen_id": 3, "phone": P},
    ),
    (
        events.booking_no_show_undone(
            "R1", booking_id=1, citizen_id=3, phone=P, status="cancelled", reason="x" * 300,
            lifted_block=True,
        ),
        "booking.no_show_undone", "R1",
        {"booking_id": 1, "citizen_id": 3, "phone": P, "status": "cancelled", "reason": "x" * 200,
         "lifted_block": True},
    ),
    (
        events.voucher_resent("R1", booking_id=1, voucher_id=4, phone=P),
        "voucher.resent", "R1", {"booking_id": 1, "voucher_id": 4, "phone": P},
    ),
    (
        events.booking_claim_confirmed("R1", booking_id=1, citizen_id=3, phone=P),
        "booking.claim_confirmed", "R1", {"booking_id": 1, "citizen_id": 3, "phone": P},
    ),
    (
        events.booking_reminder("R1", booking_id=1, slot_id=9, offset_minutes=1440, phone=P),
        "booking.reminder", "R1", {"booking_id": 1, "slot_id": 9, "offset_minutes": 1440, "phone": P},
    ),
    (events.citizen_registered(3, phone=P), "citizen.registered", "3", {"citizen_id": 3, "phone": P}),
    (
        events.citizen_id_reassigned(3, phone=P, from_citizen_id=None),
        "citizen.id_reassigned", "3", {"citizen_id": 3, "phone": P, "from_citizen_id": None},
    ),
    (
        events.citizen_blocked(3, phone=P, until=AT, because="no_show", strikes=3),
        "citizen.blocked", "3",
        {"citizen_id": 3, "phone": P, "until": AT.isoformat(), "because": "no_show", "strikes": 3},
    ),
    (
        events.citizen_block_warned(3, phone=P, before=AT.date(), strikes=4, block_days=7),
        "citizen.block_warned", "3",
        {"citizen_id": 3, "phone": P, "before": AT.date().isoformat(), "strikes": 4, "block_days": 7},
    ),
    (
        events.citizen_unblocked(3, phone=P, was_until=AT, reason="ok"),
        "citizen.unblocked", "3", {"citizen_id": 3, "phone": P, "was_until": AT.isoformat(), "reason": "ok"},
    ),
    (
        events.citizen_erased(3, people=2, cancelled=1),
        "citizen.erased", "3", {"citizen_id": 3, "people": 2, "cancelled": 1},
    ),
    (
        events.invitation_issued(
            "I1", invitation_id=2, citizen_id=3, phone=P, department_id=6, expires_at=AT
        ),
        "invitation.issued", "I1",
        {"invitation_id": 2, "citizen_id": 3, "phone": P, "department_id": 6, "expires_at": AT.isoformat()},
    ),
    (
        events.invitation_issued(
            "I1", invitation_id=2, citizen_id=3, phone=P, department_id=6, expires_at=AT,
            booking_id=1, booking_ref="R1", slot_id=9, voucher_id=4,
        ),
        "invitation.issued", "I1",
        {"invitation_id": 2, "citizen_id": 3, "phone": P, "department_id": 6,
         "expires_at": AT.isoformat(), "booking_id": 1, "booking_ref": "R1", "slot_id": 9, "voucher_id": 4},
    ),
    (
        events.invitation_booked("I1", phone=P, booking_id=1, booking_ref="R1", slot_id=9, voucher_id=4),
        "invitation.booked", "I1",
        {"phone": P, "booking_id": 1, "booking_ref": "R1", "slot_id": 9, "voucher_id": 4},
    ),
    (
        events.invitation_cancelled("I1", invitation_id=2, phone=P, reason="moved"),
        "invitation.cancelled", "I1", {"invitation_id": 2, "phone": P, "reason": "moved"},
    ),
    (
        events.invitation_expired("I1", invitation_id=2, phone=P),
        "invitation.expired", "I1", {"invitation_id": 2, "phone": P},
    ),
    (
        events.session_closed(6, date(2026, 11, 24), reason="strike", cancelled=4),
        "session.closed", "6:2026-11-24",
        {"department_id": 6, "day": "2026-11-24", "reason": "strike", "cancelled": 4},
    ),
    (
        events.slot_walkin_returned(9, places=2, starts_at=AT),
        "slot.walkin_returned", "9", {"slot_id": 9, "places": 2, "starts_at": AT.isoformat()},
    ),
    (
        events.ussd_dropped(
            "5:9@x", phone=P, session_key="s", slot_id=9, hospital="H", department="D",
            starts_at=AT, expires_at=AT,
        ),
        "ussd.dropped", "5:9@x",
        {"phone": P, "session_key": "s", "slot_id": 9, "hospital": "H", "department": "D",
         "starts_at": AT.isoformat(), "expires_at": AT.isoformat()},
    ),
    (
        events.ivr_gave_up("call-1", phone=P, language="sw"),
        "ivr.gave_up", "call-1", {"phone": P, "language": "sw"},
    ),
    (
        events.sms_reply("at:1", phone=P, template="reply", language="en", body="Hi"),
        "sms.reply", "at:1", {"phone": P, "template": "reply", "language": "en", "body": "Hi"},
    ),
    (
        events.phone_code(11, phone=P, code="1234", language=None),
        "phone.code", "11", {"phone": P, "code": "1234", "language": None},
    ),
    (
        events.person_move_code(4, citizen_id=3, phone=P, code="1234", language="sw"),
        "person.move_code", "4",
        {"move_id": 4, "citizen_id": 3, "phone": P, "code": "1234", "language": "sw"},
    ),
    (
        events.person_moved(4, citizen_id=3, phone=P, language=None),
        "person.moved", "4", {"move_id": 4, "citizen_id": 3, "phone": P, "language": None},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("event", "type_", "subject", "payload"), CASES, ids=lambda v: "")
def test_constructor_writes_its_payload(
    event: NewEvent, type_: str, subject: str, payload: dict[str, Any]
) -> None:
    assert event == NewEvent(type_, subject, payload)


def test_every_event_type_is_covered_above() -> None:
    assert {case[1] for case in CASES} == events.EVENT_TYPES


def test_every_operation_writes_known_types_only() -> None:
    assert frozenset().union(*events.EVENTS_BY_OPERATION.values()) == events.EVENT_TYPES
    assert all(types for types in events.EVENTS_BY_OPERATION.values())
