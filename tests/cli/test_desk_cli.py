"""The desk books for any person and sees whose booking it is: `ors slots list`,
`ors bookings book`, and the person's first name in `ors bookings checkin` and `list`."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from gateway.booking.models import Booking, Slot
from gateway.runtime import Runtime
from tests.booking.conftest import at, set_capacity, slot_row, staff_actions
from tests.cli.desk import MOTHER, add, card, no_phone, refusal
from tests.conftest import Ors

TUE = "2026-11-24"


def remote_places(rt: Runtime, sid: int) -> int:
    row: Slot = slot_row(rt, sid)
    return row.remote_capacity


def test_slots_list_shows_what_the_desk_can_book(catalog: Runtime, ors_cli: Ors) -> None:
    eight, half_past = card(catalog, 24, 8), card(catalog, 24, 8, 30)
    catalog.booking.book(MOTHER, eight, "ussd")
    code, out, _ = ors_cli(
        "slots", "list", "--hospital", "knh", "--department", "card", "--date", TUE
    )
    lines = out.splitlines()
    assert code == 0 and lines[0] == "  SLOT  TIME   LEFT"
    assert lines[1].split() == [str(eight), "08:00", str(remote_places(catalog, eight) - 1)]
    assert lines[2].split() == [str(half_past), "08:30", str(remote_places(catalog, half_past))]
    assert lines[-1] == f"{len(lines) - 2} slots with places left"
    assert refusal(
        ors_cli("slots", "list", "--hospital", "KNH", "--department", "NOPE", "--date", TUE)
    ) == (1, "Error: no department NOPE at KNH; departments at KNH: CARD, CCC, DERM")
    code, out, _ = ors_cli(
        "slots", "list", "--hospital", "KNH", "--department", "CARD", "--date", "2027-06-01"
    )
    assert (code, out.splitlines()[-1]) == (0, "0 slots with places left")  # not released yet


VOUCHER_LINK = re.compile(r"^  voucher (\S+)/v/([0-9A-Za-z]+)(.*)$")


def test_book_a_person_without_a_phone_prints_the_voucher(catalog: Runtime, ors_cli: Ors) -> None:
    juma = no_phone(ors_cli, "Mzee Juma")
    sid = card(catalog, 24, 9)
    code, out, err = ors_cli("bookings", "book", "--person", str(juma), "--slot", str(sid))
    assert (code, err) == (0, "")
    with catalog.reader() as s:
        booking = s.scalars(select(Booking).where(Booking.slot_id == sid)).one()
    done = catalog.booking.booking(booking.ref)
    lines = out.splitlines()
    assert lines[:3] == [
        f"booked {done.ref} for Mzee",
        "  Kenyatta National Hospital, Cardiology, Tue 24 Nov 2026 09:00",
        f"  T-code {done.tcode[:3]} {done.tcode[3:6]} {done.tcode[6:]}",
    ]
    link = VOUCHER_LINK.match(lines[3])
    assert link is not None and len(lines) == 4
    assert link.groups() == (
        catalog.settings.public_base_url.rstrip("/"),
        done.voucher_ref,
        "  (no phone: print it)",
    )
    assert booking.citizen_id == juma and booking.channel == "staff"
    assert ("book", booking.ref) in [(a.action, a.subject) for a in staff_actions(catalog)]


def test_book_a_child_of_a_phone(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina")
    code, out, _ = ors_cli(
        "bookings", "book", "--person", str(amina), "--slot", str(card(catalog, 24))
    )
    assert code == 0 and out.splitlines()[0].endswith(" for Amina")
    assert "no phone" not in out  # her voucher goes to her mother's phone by SMS


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("unknown person", "Error: no such person"),
        ("unknown slot", "Error: no such slot"),
        ("same department", "Error: Amina already has a booking in this department that day"),
        ("full", "Error: that slot has no place left (next free: Mon 23 Nov 08:00, "),
    ],
)
def test_book_refusals(catalog: Runtime, ors_cli: Ors, case: str, says: str) -> None:
    amina, baraka = add(ors_cli, "Amina"), add(ors_cli, "Baraka")
    catalog.booking.book(MOTHER, card(catalog, 24, 10), "ussd", person_id=amina)
    set_capacity(catalog, card(catalog, 24, 8), 1, 0)
    person, slot = {
        "unknown person": (999_999, card(catalog, 24, 9)),
        "unknown slot": (amina, 999_999),
        "same department": (amina, card(catalog, 24, 9)),
        "full": (baraka, card(catalog, 24, 8)),
    }[case]
    code, err = refusal(ors_cli("bookings", "book", "--person", str(person), "--slot", str(slot)))
    assert code == 1 and err.startswith(says)


def test_checkin_and_the_day_list_say_whose_booking_it_is(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina")
    juma = no_phone(ors_cli, "Juma")
    child = catalog.booking.book(MOTHER, card(catalog, 23, 8), "ussd", person_id=amina)
    desk = catalog.booking.book_at_desk(juma, card(catalog, 23, 9), "desk-1")
    mine = catalog.booking.book(MOTHER, card(catalog, 23, 10), "ussd")
    at(catalog, 2026, 11, 23, 7, 30)
    code, out, _ = ors_cli("bookings", "checkin", child.ref)
    assert (code, out) == (
        0,
        f"checked in {child.ref} for Amina: queue number 1, Cardiology, Block B, Room 12\n",
    )
    code, out, _ = ors_cli("bookings", "list", "--hospital", "KNH", "--date", "2026-11-23")
    assert code == 0
    assert [line.split()[5:7] for line in out.splitlines()[1:4]] == [
        ["Amina", MOTHER],
        ["Juma", "-"],  # a person without a phone: no placeholder shown
        ["-", MOTHER],  # the holder, who never gave a name
    ]
    code, out, _ = ors_cli(
        "bookings", "list", "--hospital", "KNH", "--date", "2026-11-23", "--json"
    )
    rows = {r["ref"]: r for r in json.loads(out)}
    assert [(rows[b.ref]["person"], rows[b.ref]["phone"]) for b in (child, desk, mine)] == [
        ("Amina", MOTHER),
        ("Juma", None),
        (None, MOTHER),
    ]


def test_invite_a_child_of_a_phone(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina")
    code, out, err = ors_cli(
        "invite", "--phone", MOTHER, "--hospital", "KNH", "--department", "CARD",
        "--slot", str(card(catalog, 24)), "--person", str(amina),
    )  # fmt: skip
    assert code == 0, err
    ref = out.split()[-1]
    with catalog.reader() as s:
        assert s.scalars(select(Booking.citizen_id).where(Booking.ref == ref)).one() == amina
    code, _, err = ors_cli(
        "invite", "--phone", "+254700000499", "--hospital", "KNH", "--department", "CARD",
        "--slot", str(card(catalog, 25)), "--person", str(amina),
    )  # fmt: skip
    assert code != 0 and "person" in err  # only a person of that phone
