"""`ors citizens export PHONE|--person ID [--json]`: everything held about a person, and nobody
else.

A phone's export lists its dependants by name (never an ID, nor the phone a moved one went to);
by person id, a dependant gets their own rows only, and a person without a phone is found.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from gateway.booking.privacy.person_export import export_person, held_about
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import slot_id, use_id_hash_key, use_rules
from tests.conftest import Ors

A, B = "+254700000701", "+254700000702"


def card(rt: Runtime, day: int, hour: int) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


@pytest.fixture
def held(catalog: Runtime) -> dict[str, str]:
    """A with a national ID, a cancelled and a live booking, their SMS and a block; B booked."""
    bk = catalog.booking
    use_id_hash_key(catalog)
    use_rules(catalog, cancel_block=BlockPolicy(count=1, window_days=30, block_days=7))
    bk.register(A, "Achieng Otieno", "12345678")
    first = bk.book(A, card(catalog, 24, 9), "ussd")
    bk.cancel(first.ref, by="citizen", phone=A)  # one cancellation: blocked (the rule above)
    bk.unblock(A, "desk-1", "came in person")
    live = bk.book(A, card(catalog, 25, 9), "ussd")
    other = bk.book(B, card(catalog, 24, 10), "ussd")
    relay_all(catalog)
    return {"cancelled": first.ref, "live": live.ref, "live_tcode": live.tcode, "other": other.ref}


def test_export_prints_the_person_their_bookings_messages_events_and_blocks(
    ors_cli: Ors, held: dict[str, str]
) -> None:
    code, out, err = ors_cli("citizens", "export", "0700000701", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    [person] = data["citizens"]
    assert (person["phone"], person["name"], person["national_id_last3"]) == (
        A,
        "Achieng Otieno",
        "678",
    )
    assert "12345678" not in out and "national_id_hash" not in out  # the ID: last 3 only
    assert person["consent_at"] and person["strikes_since"]  # a block, lifted
    bookings = {b["ref"]: b for b in data["bookings"]}
    assert set(bookings) == {held["cancelled"], held["live"]}
    assert bookings[held["cancelled"]]["status"] == "cancelled"
    assert bookings[held["live"]]["vouchers"][0] == {
        "tcode": held["live_tcode"],
        "state": "issued",
        "created_at": bookings[held["live"]]["created_at"],
    }
    assert [m["template"] for m in data["messages"]] == ["voucher", "cancelled", "voucher"]
    assert held["live_tcode"][:3] in data["messages"][-1]["body"]  # bodies as stored
    types = [e["type"] for e in data["events"]]
    for expected in (
        "citizen.registered",
        "booking.confirmed",
        "citizen.blocked",
        "citizen.unblocked",
    ):
        assert expected in types
    assert [a["action"] for a in data["audit"]] == ["unblock"]
    assert held["other"] not in out and B not in out  # nobody else's


def test_export_as_text_has_one_section_each(ors_cli: Ors, held: dict[str, str]) -> None:
    code, out, _ = ors_cli("citizens", "export", A)
    assert code == 0
    sections = [line.split(" (")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert sections == [
        "citizens",
        "bookings",
        "invitations",
        "holds",
        "events",
        "audit",
        "messages",
        "inbound_failures",
    ]
    assert f"ref: {held['live']}" in out


@pytest.mark.parametrize(
    ("phone", "message"),
    [("+254700000799", "no citizen with that phone"), ("hello", "that is not a phone number")],
)
def test_export_of_an_unknown_phone_is_one_clear_line(
    catalog: Runtime, ors_cli: Ors, phone: str, message: str
) -> None:
    code, out, err = ors_cli("citizens", "export", phone)
    assert (code, out, err) == (1, "", f"Error: {message}\n")


# --- households, and persons found by id --------------------------------------------------------

DEPENDANT_KEYS = {"name", "birth_year", "hidden", "moved", "blocked_until", "strikes_since"}


@pytest.fixture
def household(catalog: Runtime) -> dict[str, int]:
    """A with four dependants: Amina (a child, booked), Baraka (hidden), Chiku (moved to B
    with her future booking) and Bibi (an adult with a national ID); A booked too."""
    bk = catalog.booking
    use_id_hash_key(catalog)
    ids = {
        "Amina": bk.add_person(A, "Amina", birth_year=2019).id,
        "Baraka": bk.add_person(A, "Baraka", birth_year=2016).id,
        "Chiku": bk.add_person(A, "Chiku", birth_year=2008).id,
        "Bibi": bk.add_person(A, "Bibi", national_id="87654321").id,
    }
    bk.book(A, card(catalog, 24, 9), "ussd")
    bk.book(A, card(catalog, 24, 10), "ussd", person_id=ids["Amina"])
    bk.book(A, card(catalog, 25, 9), "ussd", person_id=ids["Chiku"])
    bk.hide_person(A, ids["Baraka"])
    ids["Chiku's own"] = bk.move_person(ids["Chiku"], B, actor="desk-1", reason="her phone")
    relay_all(catalog)
    return ids


def test_export_by_phone_lists_the_dependants_by_name_with_no_id(
    catalog: Runtime, household: dict[str, int]
) -> None:
    with catalog.reader() as s:
        held = held_about(s, A)
    assert held is not None
    me, *dependants = held["citizens"]
    assert (me["phone"], me["name"]) == (A, None)
    assert all(set(d) == DEPENDANT_KEYS | {"created_at"} for d in dependants)  # no ID of any kind
    assert [(d["name"], d["birth_year"], d["hidden"], d["moved"]) for d in dependants] == [
        ("Amina", 2019, False, False),
        ("Baraka", 2016, True, False),
        ("Chiku", 2008, True, True),  # moved: but never where to
        ("Bibi", None, False, False),
    ]
    # Whose each booking is; Chiku's future went with her to her own phone.
    assert [b["person"] for b in held["bookings"]] == [None, "Amina"]
    assert B not in json.dumps(held)


def test_a_dependant_exported_by_id_gets_their_own_rows_only(
    catalog: Runtime, household: dict[str, int]
) -> None:
    with catalog.reader() as s:
        found = export_person(s, household["Bibi"])
        amina = export_person(s, household["Amina"])
    assert found is not None and amina is not None
    assert found.phone is None  # messages go to the holder's phone: not Bibi's to see
    [bibi] = found.held["citizens"]
    assert (bibi["id"], bibi["name"], bibi["national_id_last3"]) == (
        household["Bibi"],
        "Bibi",
        "321",
    )
    assert found.held["bookings"] == [] and found.held["events"] == []
    [booking] = amina.held["bookings"]
    assert booking["person"] == "Amina"
    assert {e["subject"] for e in amina.held["events"]} == {booking["ref"]}


def test_a_person_without_a_phone_is_found_and_exported_by_id(catalog: Runtime) -> None:
    bk = catalog.booking
    mzee = bk.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = bk.book_at_desk(mzee.id, card(catalog, 24, 9), actor="desk-1")
    with catalog.reader() as s:
        found = export_person(s, mzee.id)
        nobody = export_person(s, 999_999)
    assert nobody is None and found is not None and found.phone is None
    [person] = found.held["citizens"]
    assert (person["phone"], person["name"], person["birth_year"]) == (None, "Mzee Juma", 1950)
    assert [b["ref"] for b in found.held["bookings"]] == [booked.ref]
    assert [a["action"] for a in found.held["audit"]] == ["register_person", "book"]


def test_the_desk_exports_a_person_without_a_phone_by_id(catalog: Runtime, ors_cli: Ors) -> None:
    mzee = catalog.booking.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = catalog.booking.book_at_desk(mzee.id, card(catalog, 24, 9), actor="desk-1")
    code, out, err = ors_cli("citizens", "export", "--person", str(mzee.id), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [(c["id"], c["phone"], c["name"]) for c in data["citizens"]] == [
        (mzee.id, None, "Mzee Juma")
    ]
    assert [b["ref"] for b in data["bookings"]] == [booked.ref]
    assert "messages" not in data  # no phone: no messages are theirs


def test_the_desk_exports_a_dependant_by_id_without_the_phones_messages(
    catalog: Runtime, household: dict[str, int], ors_cli: Ors
) -> None:
    code, out, _ = ors_cli("citizens", "export", "--person", str(household["Amina"]))
    assert code == 0
    sections = [line.split(" (")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert sections == ["citizens", "bookings", "invitations", "holds", "events", "audit"]
    assert "name: Amina" in out and "Baraka" not in out  # her rows, not the household's


def test_the_holder_by_id_gets_the_phones_export_with_its_messages(
    catalog: Runtime, ors_cli: Ors, held: dict[str, str]
) -> None:
    me = catalog.booking.persons(A)[0].id
    by_id = ors_cli("citizens", "export", "--person", str(me), "--json")
    assert by_id == ors_cli("citizens", "export", A, "--json")


def test_export_of_an_unknown_person_is_one_clear_line(catalog: Runtime, ors_cli: Ors) -> None:
    code, out, err = ors_cli("citizens", "export", "--person", "999999")
    assert (code, out, err) == (1, "", "Error: no such person\n")
