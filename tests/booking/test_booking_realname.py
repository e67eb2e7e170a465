"""Real-name mode: name and national ID before booking; the ID kept only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select

from gateway.booking.domain.errors import (
    AlreadyRegistered,
    IdInUse,
    InvalidRegistration,
    RegistrationRequired,
)
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from gateway.settings import ConfigError
from tests.booking.conftest import (
    events,
    last_event_id,
    slot_id,
    staff_actions,
    use_id_hash_key,
    use_rules,
)
from tests.booking.races import race

A, B = "+254700000001", "+254700000002"
RAW_ID = "K7Q-2938 4756"  # as typed; stored normalised as K7Q29384756, but only hashed
NORMALISED = "K7Q29384756"
KEY = "test-id-hash-key"
MON_0800 = datetime(2026, 11, 23, 8, 0)


@pytest.fixture
def real_name(catalog: Runtime) -> Runtime:
    use_rules(catalog, hospital="KNH", real_name=True)
    use_id_hash_key(catalog, KEY)
    return catalog


def citizen(rt: Runtime, phone: str) -> Citizen:
    with rt.reader() as s:
        return s.scalars(select(Citizen).where(Citizen.phone == phone)).one()


def test_booking_is_refused_until_name_and_id_are_given(real_name: Runtime) -> None:
    knh = slot_id(real_name, "CARD", MON_0800)
    # The place is held while the menus ask for what is lacking; the booking is refused.
    held = real_name.booking.hold(A, "s", knh)
    assert held.lacks == ("name", "national_id")
    with pytest.raises(RegistrationRequired) as refused:
        real_name.booking.book(A, knh, "ussd")
    assert refused.value.code == "registration_required"
    assert refused.value.facts == {"hospital": "KNH"}
    real_name.booking.release_hold(A)
    mch = slot_id(real_name, "DEMO", MON_0800, hospital="MCH")  # MCH is not in real-name mode
    assert real_name.booking.book(A, mch, "ussd").status == "confirmed"
    before = last_event_id(real_name)
    real_name.booking.register(A, "  Achieng   Otieno ", RAW_ID)
    assert [e.type for e in events(real_name, before)] == ["citizen.registered"]
    assert real_name.booking.book(A, knh, "ussd").status == "confirmed"
    assert citizen(real_name, A).name == "Achieng Otieno"


def test_a_rebook_into_a_real_name_hospital_needs_registration(real_name: Runtime) -> None:
    mch = real_name.booking.book(A, slot_id(real_name, "DEMO", MON_0800, hospital="MCH"), "ussd")
    with pytest.raises(RegistrationRequired):
        real_name.booking.rebook(mch.ref, slot_id(real_name, "CARD", MON_0800), by="staff")
    assert real_name.booking.booking(mch.ref).status == "confirmed"


def test_the_id_is_stored_as_a_keyed_hash_and_its_last_three(real_name: Runtime) -> None:
    real_name.booking.register(A, "Achieng Otieno", RAW_ID)
    stored = citizen(real_name, A)
    expected = hmac.new(KEY.encode(), NORMALISED.encode(), hashlib.sha256).hexdigest()
    assert (stored.national_id_hash, stored.national_id_last3) == (expected, "756")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_raw_id_appears_nowhere_in_the_database_or_logs(
    real_name: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sent: list[str] = []  # every statement's parameters: engines hide them from logs and errors
    event.listen(real_name.engine, "before_cursor_execute", lambda *a: sent.append(repr(a[3])))
    real_name.booking.register(A, "Achieng Otieno", RAW_ID)
    with pytest.raises(IdInUse) as in_use:
        real_name.booking.register(B, "Someone Else", RAW_ID)
    with pytest.raises(InvalidRegistration) as invalid:
        real_name.booking.register(B, "Someone Else", "12")
    real_name.booking.reassign_id(B, RAW_ID, "desk-1", "lost SIM")
    real_name.booking.register(B, "Someone Else", RAW_ID)  # the name, now that the ID is B's
    real_name.booking.book(B, slot_id(real_name, "CARD", MON_0800), "ussd")
    path = Path(real_name.engine.url.database or "")
    real_name.engine.dispose()  # let the WAL settle into the file as well
    dump = "\n".join(sqlite3.connect(path).iterdump())
    files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    hashed = citizen(real_name, B).national_id_hash
    assert hashed and hashed in dump and hashed in "".join(sent)  # the search would find it
    for secret in (RAW_ID, NORMALISED, "29384756"):
        assert secret not in dump
        assert secret.encode() not in files
        assert secret not in caplog.text
        assert secret not in "".join(sent)
        assert secret not in str(in_use.value) + str(invalid.value)


def test_one_id_cannot_be_registered_to_two_phones(real_name: Runtime) -> None:
    real_name.booking.register(A, "Achieng Otieno", RAW_ID)
    with pytest.raises(IdInUse) as refused:
        real_name.booking.register(B, "Achieng Otieno", "k7q 29384756")  # same ID, other spelling
    assert refused.value.code == "id_in_use"
    with real_name.reader() as s:
        holders = s.scalars(select(Citizen.phone).where(Citizen.national_id_hash.is_not(None)))
        assert list(holders) == [A]


def test_staff_move_an_id_to_another_phone(real_name: Runtime) -> None:
    real_name.booking.register(A, "Achieng Otieno", RAW_ID)
    real_name.booking.register(B, "Achieng Otieno", "A1234567")  # B had another ID
    before = last_event_id(real_name)
    real_name.booking.reassign_id(B, RAW_ID, "desk-1", "A's phone was stolen")
    assert citizen(real_name, A).national_id_hash is None
    assert citizen(real_name, B).national_id_last3 == "756"
    written = events(real_name, before)
    assert [e.type for e in written] == ["citizen.id_reassigned"]
    assert written[0].payload["from_citizen_id"] == citizen(real_name, A).id
    assert [(a.actor, a.action, a.subject) for a in staff_actions(real_name)] == [
        ("desk-1", "reassign_id", B)
    ]
    with pytest.raises(RegistrationRequired):  # A is no longer registered
        real_name.booking.book(A, slot_id(real_name, "CARD", MON_0800), "ussd")


def test_a_registered_citizen_cannot_swap_ids_alone(real_name: Runtime) -> None:
    real_name.booking.register(A, "Achieng Otieno", RAW_ID)
    real_name.booking.register(A, "Achieng W. Otieno", RAW_ID)  # a new spelling of the name: fine
    assert citizen(real_name, A).name == "Achieng W. Otieno"
    with pytest.raises(AlreadyRegistered):
        real_name.booking.register(A, "Achieng Otieno", "A1234567")


@pytest.mark.parametrize(
    ("name", "national_id", "field"),
    [("A", RAW_ID, "name"), ("12345", RAW_ID, "name"), ("Achieng", "1234", "national_id")],
)
def test_bad_names_and_ids_are_refused_naming_the_field(
    real_name: Runtime, name: str, national_id: str, field: str
) -> None:
    with pytest.raises(InvalidRegistration) as refused:
        real_name.booking.register(A, name, national_id)
    assert refused.value.facts == {"field": field}


def test_registration_without_the_hash_key_is_refused_clearly(catalog: Runtime) -> None:
    with pytest.raises(ConfigError, match=r"^ORS_ID_HASH_KEY: "):
        catalog.booking.register(A, "Achieng Otieno", RAW_ID)


def test_real_name_mode_is_off_by_default(catalog: Runtime) -> None:
    assert catalog.booking.book(A, slot_id(catalog, "CARD", MON_0800), "ussd").created


@pytest.mark.parametrize("backend", ["postgres"])
def test_five_phones_racing_for_one_id_give_it_to_one(real_name: Runtime) -> None:
    outcomes = race(5, lambda i: real_name.booking.register(f"+2547400{i:05d}", "Achieng", RAW_ID))
    assert outcomes == Counter({"ok": 1, "id_in_use": 4})
