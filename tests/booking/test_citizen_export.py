"""`ors citizens export PHONE [--json]`: everything held about a person, and nobody else."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

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
