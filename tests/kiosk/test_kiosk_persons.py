"""Whose booking it is: a mother who checks in two children gets two tickets, each with the
child's first name; "Me" shows the holder's first name when known, else nothing (issue 19)."""

from __future__ import annotations

from datetime import datetime

from tests.booking.conftest import slot_id, use_id_hash_key
from tests.kiosk.conftest import KioskClient
from tests.kiosk.test_kiosk_api import check, payload_of

MOTHER, NAMED = "+254700000501", "+254700000502"


def card(kiosk: KioskClient, hour: int, minute: int = 0) -> int:
    return slot_id(kiosk.rt, "CARD", datetime(2026, 11, 23, hour, minute))


def test_two_children_of_one_phone_get_two_tickets_with_their_names(kiosk: KioskClient) -> None:
    bk = kiosk.rt.booking
    amina = bk.add_person(MOTHER, "Amina", birth_year=2019)
    baraka = bk.add_person(MOTHER, "Baraka")
    first = bk.book(MOTHER, card(kiosk, 8), "ussd", person_id=amina.id)
    second = bk.book(MOTHER, card(kiosk, 8, 30), "ussd", person_id=baraka.id)
    kiosk.at(2026, 11, 23, 7, 15)
    tickets = [
        check(kiosk.post("checkin", payload_of(kiosk, first.tcode)), "checked_in", 200)["ticket"],
        check(kiosk.post("checkin", second.tcode), "checked_in", 200)["ticket"],
    ]
    assert [(t["person"], t["queue_number"]) for t in tickets] == [("Amina", 1), ("Baraka", 2)]
    # A rescan and a lookup name the child too; the phone and any ID never appear.
    again = check(kiosk.post("checkin", first.tcode), "already_checked_in", 200)
    assert again["ticket"]["person"] == "Amina"
    assert MOTHER[4:] not in str(again) and "2019" not in str(again)


def test_me_is_named_by_the_holders_first_name_when_known(kiosk: KioskClient) -> None:
    use_id_hash_key(kiosk.rt)
    kiosk.rt.booking.register(NAMED, "Achieng Otieno", "12345678")
    named = kiosk.rt.booking.book(NAMED, card(kiosk, 9), "ussd")
    unnamed = kiosk.rt.booking.book(MOTHER, card(kiosk, 9, 30), "ussd")
    kiosk.at(2026, 11, 23, 8, 0)
    looked_up = check(kiosk.post("lookup", named.tcode), "valid", 200)["ticket"]
    assert looked_up["person"] == "Achieng"  # the first name only
    assert (
        check(kiosk.post("checkin", unnamed.tcode), "checked_in", 200)["ticket"]["person"] is None
    )
