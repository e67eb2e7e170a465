"""Staff commands run in-process on the test runtime (both backends): effects, audit, errors."""

from __future__ import annotations

import getpass
import json
from collections import Counter
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.booking.domain.errors import SlotFull
from gateway.booking.models import Booking, Citizen, Slot
from gateway.cli import context, ors
from gateway.runtime import Runtime
from tests.booking.conftest import (
    at,
    events,
    last_event_id,
    slot_id,
    slot_row,
    staff_actions,
    use_id_hash_key,
)
from tests.booking.helpers import refuse_if_blocked
from tests.conftest import Ors

TUE = date(2026, 11, 24)
PHONES = [f"+25470000020{i}" for i in range(6)]


def card(rt: Runtime, day: int, hour: int, minute: int = 0) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, minute))


def one_line_error(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.strip()


def test_sessions_close_cancels_the_day_and_notifies_each_citizen_once(
    catalog: Runtime, ors_cli: Ors
) -> None:
    bk = catalog.booking
    refs = [
        bk.book(p, card(catalog, 24, 8 + i // 2, 30 * (i % 2)), "ussd").ref
        for i, p in enumerate(PHONES[:4])
    ]
    bk.hold(PHONES[4], "s", card(catalog, 24, 11))
    derm = bk.book(PHONES[0], slot_id(catalog, "DERM", datetime(2026, 11, 24, 8, 0)), "ussd")
    wednesday = bk.book(PHONES[1], card(catalog, 25, 8), "ussd")
    before = last_event_id(catalog)
    code, out, err = ors_cli(
        "sessions",
        "close",
        "--hospital",
        "knh",
        "--department",
        "card",
        "--date",
        "2026-11-24",
        "--reason",
        "Doctor ill",
        "--by",
        "dr-admin",
    )
    assert (code, err) == (0, "")
    assert out == (
        "closed CARD at KNH on 2026-11-24: 4 bookings cancelled, 1 holds released, 8 slots closed\n"
    )
    written = events(catalog, before)
    cancelled = [e for e in written if e.type == "booking.cancelled"]
    assert sorted(e.subject_id for e in cancelled) == sorted(refs)
    assert Counter(e.payload["phone"] for e in cancelled) == Counter(PHONES[:4])  # one each
    assert {(e.payload["by"], e.payload["reason"]) for e in cancelled} == {("staff", "Doctor ill")}
    assert Counter(e.type for e in written) == Counter(
        {"booking.cancelled": 4, "hold.released": 1, "session.closed": 1}
    )
    assert [(a.actor, a.action, a.subject, a.reason) for a in staff_actions(catalog)] == [
        (
            f"dr-admin (os: {getpass.getuser()})",
            "close_session",
            "KNH/CARD/2026-11-24",
            "Doctor ill",
        )
    ]
    card_dept = slot_row(catalog, card(catalog, 24, 8)).department_id
    assert bk.free_slots(card_dept, TUE) == [] and TUE not in bk.open_days(card_dept)
    with pytest.raises(SlotFull):
        bk.book(PHONES[5], card(catalog, 24, 9), "ussd")
    assert bk.booking(derm.ref).status == "confirmed" == bk.booking(wednesday.ref).status
    bk.generate_slots(15)  # regenerating from the schedules does not reopen a closed session
    with catalog.reader() as s:
        slots = s.scalars(select(Slot).where(Slot.department_id == card_dept, Slot.day == TUE))
        assert {(x.remote_capacity, x.remote_taken) for x in slots} == {(0, 0)}


def test_bookings_list_as_text_and_json(catalog: Runtime, ors_cli: Ors) -> None:
    first = catalog.booking.book(PHONES[0], card(catalog, 24, 8), "ussd")
    catalog.booking.book(PHONES[1], slot_id(catalog, "DERM", datetime(2026, 11, 24, 9)), "sms")
    code, out, _ = ors_cli("bookings", "list", "--hospital", "KNH", "--date", "2026-11-24")
    assert code == 0 and out.splitlines()[-1] == "2 bookings"
    assert out.splitlines()[0].split()[:4] == ["TIME", "DEPT", "REF", "STATUS"]
    assert out.splitlines()[1].startswith(f"08:00  CARD   {first.ref}  confirmed")
    code, out, _ = ors_cli(
        "bookings",
        "list",
        "--hospital",
        "KNH",
        "--date",
        "2026-11-24",
        "--department",
        "CARD",
        "--json",
    )
    rows = json.loads(out)
    assert code == 0 and [r["ref"] for r in rows] == [first.ref]
    assert rows[0] | {"starts_at": None} == {
        "ref": first.ref,
        "department": "CARD",
        "starts_at": None,
        "status": "confirmed",
        "kind": "booking",
        "channel": "ussd",
        "phone": PHONES[0],
        "name": None,
        "person": None,  # whose booking (a first name): this phone's holder gave none
        "tcode": first.tcode,
        "queue_number": None,
    }
    assert rows[0]["starts_at"] == "2026-11-24T08:00:00+03:00"
    code, _, err = ors_cli(
        "bookings", "list", "--hospital", "KNH", "--date", "2026-11-24", "--department", "NOPE"
    )
    assert code == 2 and one_line_error(err) == (
        "ors: no department NOPE at KNH; departments at KNH: CARD, CCC, DERM"
    )


def test_bookings_cancel_records_the_os_user_by_default(catalog: Runtime, ors_cli: Ors) -> None:
    booked = catalog.booking.book(PHONES[0], card(catalog, 24, 8), "ussd")
    code, out, _ = ors_cli("bookings", "cancel", booked.ref.lower(), "--reason", "Clinic moved")
    assert code == 0 and out.startswith(f"cancelled {booked.ref} (Cardiology, Tue 24 Nov 08:00)")
    assert catalog.booking.booking(booked.ref).status == "cancelled"
    assert [(a.actor, a.action, a.reason) for a in staff_actions(catalog)] == [
        (getpass.getuser(), "cancel", "Clinic moved")
    ]
    code, _, err = ors_cli("bookings", "cancel", booked.ref, "--reason", "again")
    assert code == 2 and one_line_error(err) == "ors: that booking is cancelled, no longer active"
    code, _, err = ors_cli("bookings", "cancel", "NOPE2345", "--reason", "x")
    assert code == 2 and one_line_error(err) == "ors: no such booking"


def test_desk_check_in_shares_the_kiosks_queue(catalog: Runtime, ors_cli: Ors) -> None:
    kiosk = catalog.booking.book(PHONES[0], card(catalog, 23, 8), "ussd")
    desk = catalog.booking.book(PHONES[1], card(catalog, 23, 9), "ussd")
    at(catalog, 2026, 11, 23, 7, 30)
    assert catalog.booking.check_in(kiosk.tcode, "KNH").queue_number == 1
    code, out, _ = ors_cli("bookings", "checkin", desk.ref, "--by", "nurse-2")
    assert code == 0
    assert out == f"checked in {desk.ref}: queue number 2, Cardiology, Block B, Room 12\n"
    assert catalog.booking.booking(desk.ref).status == "checked_in"
    code, _, err = ors_cli("bookings", "checkin", desk.ref)
    assert code == 1
    assert one_line_error(err) == (
        f"Error: cannot check in {desk.ref}: already checked in (queue number 2)"
    )
    tuesday = catalog.booking.book(PHONES[2], card(catalog, 24, 8), "ussd")
    code, _, err = ors_cli("bookings", "checkin", tuesday.ref)
    assert code == 1 and one_line_error(err).endswith(
        "that booking is for another day (2026-11-24)"
    )


def test_invite_a_slot_or_a_window(catalog: Runtime, ors_cli: Ors) -> None:
    sid = card(catalog, 24, 8)
    code, out, _ = ors_cli(
        "invite",
        "--phone",
        "0700000201",
        "--hospital",
        "KNH",
        "--department",
        "CARD",
        "--slot",
        str(sid),
        "--by",
        "dr-x",
    )
    assert code == 0 and " issued and booked as " in out
    code, out, _ = ors_cli(
        "invite",
        "--phone",
        PHONES[2],
        "--hospital",
        "KNH",
        "--department",
        "CARD",
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-27",
        "--expires",
        "2026-11-26",
    )
    assert code == 0 and out.endswith("2026-11-25 to 2026-11-27, open until 2026-11-27 00:00\n")
    assert [i.department for i in catalog.booking.open_invitations(PHONES[2])] == ["Cardiology"]
    code, _, err = ors_cli(
        "invite",
        "--phone",
        PHONES[3],
        "--hospital",
        "KNH",
        "--department",
        "CARD",
        "--slot",
        str(sid),
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-27",
    )
    assert code == 2 and "give either --slot or --from and --to" in err
    code, _, err = ors_cli(
        "invite",
        "--phone",
        PHONES[3],
        "--hospital",
        "KNH",
        "--department",
        "CARD",
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-27",
    )
    assert code == 2
    assert one_line_error(err) == (
        "ors: that invitation cannot work: an open invitation needs an expiry date"
    )


def test_citizens_unblock(catalog: Runtime, ors_cli: Ors) -> None:
    refuse_if_blocked(catalog, PHONES[0])
    with catalog.writer() as s:
        s.scalars(select(Citizen).where(Citizen.phone == PHONES[0])).one().blocked_until = datetime(
            2026, 12, 20, tzinfo=catalog.clock.now().tzinfo
        )
        s.commit()
    code, out, _ = ors_cli("citizens", "unblock", PHONES[0], "--reason", "appeal", "--by", "desk")
    assert (code, out) == (0, "block lifted\n")
    refuse_if_blocked(catalog, PHONES[0])  # no refusal now
    code, _, err = ors_cli("citizens", "unblock", PHONES[0], "--reason", "appeal")
    assert code == 2 and one_line_error(err) == "ors: there is no block to lift"


def test_citizens_reassign_id_asks_for_the_id(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "runtime", lambda settings=None: catalog)
    use_id_hash_key(catalog)
    catalog.booking.register(PHONES[0], "Achieng Otieno", "12345678")
    result = CliRunner().invoke(
        ors,
        ["citizens", "reassign-id", PHONES[1], "--reason", "lost SIM", "--by", "desk"],
        input="12345678\n",
    )
    assert result.exit_code == 0, result.output
    assert "12345678" not in result.output  # typed hidden, never echoed
    with catalog.reader() as s:
        holder = s.scalars(select(Citizen.phone).where(Citizen.national_id_last3 == "678")).one()
    assert holder == PHONES[1]


def test_staff_rebook(catalog: Runtime, ors_cli: Ors) -> None:
    booked = catalog.booking.book(PHONES[0], card(catalog, 24, 8), "ussd")
    code, out, _ = ors_cli("bookings", "rebook", booked.ref, "--slot", str(card(catalog, 24, 10)))
    assert code == 0 and out.startswith(f"rebooked {booked.ref} -> {booked.ref} (KNH, Cardiology")
    with catalog.reader() as s:
        assert s.scalars(select(Booking.slot_id).where(Booking.ref == booked.ref)).one() == card(
            catalog, 24, 10
        )


def test_a_long_by_never_pushes_the_os_user_out_of_the_audit(
    catalog: Runtime, ors_cli: Ors
) -> None:
    booked = catalog.booking.book(PHONES[0], card(catalog, 24, 8), "ussd")
    code, _, _ = ors_cli("bookings", "cancel", booked.ref, "--reason", "x", "--by", "x" * 80)
    assert code == 0
    [action] = staff_actions(catalog)
    assert len(action.actor) <= 64 and action.actor.endswith(f"(os: {getpass.getuser()})")
