"""`ors citizens erase PHONE|--person ID --reason TEXT [--cancel-future] [--by NAME]`: the right
to erasure (by id: a person registered without a phone, or a phone's holder).

The phone's holder and dependants (hidden ones, and the history a dependant who moved to a
phone of their own left behind; not that phone) are anonymised at once; every event naming
them loses the phone; messages to them are redacted and queued ones refused; live future bookings make it
refuse unless --cancel-future; the audit row names a keyed hash of the phone, never the phone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.booking.domain.errors import NotFound
from gateway.booking.models import Booking, Citizen, Event, Hold, Invitation, StaffAction
from gateway.booking.operations.invitations import Offer
from gateway.booking.privacy import erasure
from gateway.booking.privacy.erasure import audit_subject
from gateway.booking.service import Confirmation
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging.models import Message
from gateway.messaging.relay import relay_all
from gateway.messaging.retention import REDACTED
from gateway.runtime import Runtime
from tests.booking.conftest import at, slot_id, slot_row, staff_actions, use_id_hash_key
from tests.conftest import MONDAY_0600, Ors

A, B = "+254700000801", "+254700000802"
KEY = "test-id-hash-key"


def card(rt: Runtime, day: int, hour: int) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


def citizens_of(rt: Runtime) -> list[Citizen]:
    with rt.reader() as s:
        return list(s.scalars(select(Citizen).order_by(Citizen.id)))


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.strip()


@pytest.fixture
def keyed(catalog: Runtime) -> Runtime:
    use_id_hash_key(catalog, KEY)
    return catalog


def test_erasing_an_unknown_phone_is_one_clear_line(keyed: Runtime, ors_cli: Ors) -> None:
    code, out, err = ors_cli("citizens", "erase", "+254700000899", "--reason", "asked")
    assert (code, out, one_line(err)) == (1, "", "Error: no citizen with that phone")


def test_a_live_future_booking_makes_erasure_refuse_and_change_nothing(
    keyed: Runtime, ors_cli: Ors
) -> None:
    booked = keyed.booking.book(A, card(keyed, 24, 9), "ussd")
    code, out, err = ors_cli("citizens", "erase", A, "--reason", "asked at the desk")
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"Error: refused: 1 future booking(s) still live ({booked.ref}); "
        "add --cancel-future to cancel them first"
    )
    assert [(c.phone, c.anonymised_at) for c in citizens_of(keyed)] == [(A, None)]
    assert keyed.booking.booking(booked.ref).status == "confirmed"
    assert staff_actions(keyed) == []


def test_erasure_without_the_id_hash_key_refuses(catalog: Runtime, ors_cli: Ors) -> None:
    # In production (a database URL is set); the embedded demo makes a key of its own.
    production = catalog.booking.settings.with_overrides(database_url="postgresql+psycopg://db/o")
    catalog.booking.settings = production
    catalog.booking.book(A, card(catalog, 24, 9), "ussd")
    code, _, err = ors_cli("citizens", "erase", A, "--reason", "asked", "--cancel-future")
    assert code == 2 and one_line(err).startswith("ors: ORS_ID_HASH_KEY: required to erase")
    assert [c.phone for c in citizens_of(catalog)] == [A]


class Erased(TypedDict):
    """What the erasure left behind: the command's output, A's bookings, B's, A's citizen id."""

    out: str
    past: Confirmation
    live: Confirmation
    other: Confirmation
    holder: int


@pytest.fixture
def erased(keyed: Runtime, ors_cli: Ors) -> Erased:
    """A registered, with a past and a live booking, a dependant, a hold, an open invitation
    and SMS waiting in the queue; B booked too. Then A is erased with --cancel-future."""
    bk = keyed.booking
    bk.register(A, "Achieng Otieno", "12345678")
    past = bk.book(A, card(keyed, 23, 8), "ussd")
    live = bk.book(A, card(keyed, 24, 9), "ussd")
    bk.hold(A, "ATUid_1", card(keyed, 25, 9))
    day = date(2026, 11, 26)
    bk.invite(A, "KNH", "CARD", "dr-admin", Offer(window_from=day, window_to=day, expires=day))
    other = bk.book(B, card(keyed, 24, 10), "ussd")
    with keyed.writer() as s:
        holder = s.scalars(select(Citizen).where(Citizen.phone == A)).one()
        s.add(Citizen(phone=A, guardian_id=holder.id, name="Child Otieno", created_at=MONDAY_0600))
        s.commit()
    relay_all(keyed)  # their vouchers and the invitation: queued, not yet sent
    at(keyed, 2026, 11, 23, 9, 0)  # the past booking's slot is over
    code, out, err = ors_cli(
        "citizens",
        "erase",
        "0700000801",
        "--reason",
        "asked at the desk",
        "--cancel-future",
        "--by",
        "clerk-7",
    )
    assert (code, err) == (0, "")
    return {"out": out, "past": past, "live": live, "other": other, "holder": holder.id}


def test_erasure_anonymises_the_holder_and_dependants_and_keeps_the_bookings(
    keyed: Runtime, erased: Erased
) -> None:
    holder = erased["holder"]
    people = citizens_of(keyed)
    assert [(c.phone, c.name, c.national_id_hash, c.national_id_last3) for c in people] == [
        (f"~{holder}", None, None, None),
        (B, None, None, None),
        (f"~{people[2].id}", None, None, None),
    ]
    assert people[0].anonymised_at == people[2].anonymised_at == keyed.clock.now()
    assert erased["out"] == (
        f"erased citizen {holder} (2 person(s)), 1 future booking(s) cancelled: "
        "3 message(s) redacted (3 never to be sent), 7 event(s) stripped\n"
    )
    live = keyed.booking.booking(erased["live"].ref)
    assert live.status == "cancelled"
    with keyed.reader() as s:
        cancelled = s.scalars(select(Booking).where(Booking.ref == live.ref)).one()
        assert (cancelled.cancelled_by, cancelled.cancel_reason) == ("staff", "asked at the desk")
        assert s.scalar(select(func.count()).select_from(Booking)) == 3  # counts kept
        assert s.scalar(select(func.count()).select_from(Hold)) == 0
        assert slot_row(keyed, card(keyed, 25, 9)).remote_taken == 0  # the held place is back
        assert s.scalars(select(Invitation.status)).all() == ["cancelled"]


def test_erasure_leaves_no_phone_in_events_messages_or_the_audit_trail(
    keyed: Runtime, erased: Erased
) -> None:
    relay_all(keyed)  # the cancellation must send nothing to an erased person
    with keyed.reader() as s:
        events = list(s.scalars(select(Event).order_by(Event.id)))
        theirs = list(s.scalars(select(Message).where(Message.to_phone != B)))
        assert s.scalar(select(func.count()).select_from(Message).where(Message.to_phone == A)) == 0
        subjects = s.scalars(select(StaffAction.subject)).all()
    assert {e.payload["phone"] for e in events if "phone" in e.payload} == {B}
    assert all(e.relayed_at is not None for e in events if e.type != "citizen.erased")
    [done] = [e for e in events if e.type == "citizen.erased"]
    assert done.payload == {"citizen_id": erased["holder"], "people": 2, "cancelled": 1}
    assert {m.body for m in theirs} == {REDACTED} and {m.status for m in theirs} == {"refused"}
    cancel, erase = staff_actions(keyed)[-2:]
    assert [(a.action, a.reason) for a in (cancel, erase)] == [
        ("cancel", "asked at the desk"),
        ("erase", "asked at the desk"),
    ]
    assert erase.actor.startswith("clerk-7") and cancel.subject == erased["live"].ref
    assert subjects[-1] == audit_subject(A, KEY) and A not in subjects
    assert A not in erased["out"]


def test_after_erasure_the_links_are_gone_and_the_phone_is_a_stranger(
    keyed: Runtime, erased: Erased, ors_cli: Ors
) -> None:
    code, _, err = ors_cli("citizens", "export", A)
    assert (code, one_line(err)) == (1, "Error: no citizen with that phone")
    client: FlaskClient = create_app(runtime=keyed).test_client()
    for booked in (erased["past"], erased["live"]):
        assert client.get(f"/v/{booked.voucher_ref}").status_code == 410
    assert client.get(f"/v/{erased['other'].voucher_ref}").status_code == 200
    keyed.booking.book(A, card(keyed, 25, 10), "ussd")  # a new person to us
    assert [c.phone for c in citizens_of(keyed)].count(A) == 1


def test_past_bookings_alone_need_no_cancel_future(keyed: Runtime, ors_cli: Ors) -> None:
    keyed.booking.book(A, card(keyed, 23, 8), "ussd")
    at(keyed, 2026, 11, 23, 8, 30)  # the slot has ended
    code, out, err = ors_cli("citizens", "erase", A, "--reason", "asked")
    assert (code, err) == (0, "") and out.startswith("erased citizen 1 (1 person(s)): ")


# --- households: hidden and moved persons, and persons without a phone -------------------------


def erase_now(rt: Runtime, phone: str, cancel_future: bool = True) -> erasure.Erasure:
    """The booking core's half of `ors citizens erase`, in a unit of work of its own."""
    request = erasure.Request(phone, "asked at the desk", "clerk-7", cancel_future)
    with UnitOfWork(rt.writer) as uow:
        done = erasure.erase(uow.session, rt.booking.rules, request, KEY, rt.clock.now())
        uow.commit()
    return done


def person_rows(rt: Runtime, *ids: int) -> list[tuple[str, str | None, int | None, bool]]:
    """(phone, name, birth year, anonymised) of these persons, in this order."""
    with rt.reader() as s:
        rows = {c.id: c for c in s.scalars(select(Citizen).where(Citizen.id.in_(ids)))}
    return [
        (rows[i].phone, rows[i].name, rows[i].birth_year, rows[i].anonymised_at is not None)
        for i in ids
    ]


def test_a_phone_is_erased_with_hidden_dependants_and_a_moved_ones_history_not_her_phone(
    keyed: Runtime,
) -> None:
    bk = keyed.booking
    amina = bk.add_person(A, "Amina", birth_year=2008)
    baraka = bk.add_person(A, "Baraka", birth_year=2015)
    history = bk.book(A, card(keyed, 23, 8), "ussd", person_id=amina.id)
    bk.book(A, card(keyed, 23, 9), "ussd", person_id=baraka.id)
    at(keyed, 2026, 11, 23, 7, 30)
    bk.desk_check_in(history.ref)
    future = bk.book(A, card(keyed, 25, 9), "ussd", person_id=amina.id)
    bk.hide_person(A, baraka.id)
    her_own = bk.move_person(amina.id, B, actor="desk-1", reason="her own phone")
    holder = bk.persons(A)[0].id
    at(keyed, 2026, 11, 23, 10, 0)  # the 23rd's bookings are over: nothing live on A

    done = erase_now(keyed, A)

    assert (done.people, done.cancelled) == (3, ())
    assert person_rows(keyed, holder, amina.id, baraka.id) == [
        (f"~{holder}", None, None, True),
        (f"~{amina.id}", None, None, True),  # her history under her mother's phone
        (f"~{baraka.id}", None, None, True),
    ]
    assert person_rows(keyed, her_own) == [(B, "Amina", 2008, False)]
    assert [b.ref for b in bk.upcoming(B)] == [future.ref]  # hers, and still live
    assert bk.booking(future.ref).status == "confirmed"
    assert bk.booking(history.ref).status == "checked_in"  # kept for the counts


def test_erasure_withdraws_the_open_invitations_of_dependants_too(keyed: Runtime) -> None:
    bk = keyed.booking
    child = bk.add_person(A, "Amina")
    day = date(2026, 11, 26)
    offer = Offer(window_from=day, window_to=day, expires=day)
    bk.invite(A, "KNH", "CARD", "dr-admin", offer, person_id=child.id)
    erase_now(keyed, A)
    with keyed.reader() as s:
        assert s.scalars(select(Invitation.status)).all() == ["cancelled"]


def test_a_person_without_a_phone_is_erased_by_their_id(keyed: Runtime) -> None:
    bk = keyed.booking
    mzee = bk.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = bk.book_at_desk(mzee.id, card(keyed, 24, 9), actor="desk-1")
    with keyed.reader() as s:
        placeholder = erasure.phone_of(s, mzee.id)
    with pytest.raises(erasure.FutureBookings):
        erase_now(keyed, placeholder, cancel_future=False)
    done = erase_now(keyed, placeholder)
    assert (done.citizen_id, done.people, done.cancelled) == (mzee.id, 1, (booked.ref,))
    assert person_rows(keyed, mzee.id) == [(f"~{mzee.id}", None, None, True)]
    with keyed.reader() as s, pytest.raises(NotFound):
        erasure.phone_of(s, mzee.id)  # erased already


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("nobody", NotFound), ("a dependant", erasure.SharedPhone), ("Me", None)],
)
def test_erasing_by_id_finds_holders_and_refuses_a_dependant_alone(
    keyed: Runtime, who: str, refusal: type[Exception] | None
) -> None:
    keyed.booking.add_person(A, "Amina")
    ids = {p.first_name or "Me": p.id for p in keyed.booking.persons(A)}
    person = {"nobody": 999_999, "a dependant": ids["Amina"], "Me": ids["Me"]}[who]
    with keyed.reader() as s:
        if refusal is None:
            assert erasure.phone_of(s, person) == A
            return
        with pytest.raises(refusal):
            erasure.phone_of(s, person)


def test_the_desk_erases_a_person_without_a_phone_by_id(keyed: Runtime, ors_cli: Ors) -> None:
    bk = keyed.booking
    mzee = bk.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = bk.book_at_desk(mzee.id, card(keyed, 24, 9), actor="desk-1")
    code, out, err = ors_cli(
        "citizens", "erase", "--person", str(mzee.id), "--reason", "asked", "--cancel-future",
        "--by", "clerk-7",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"erased citizen {mzee.id} (1 person(s)), 1 future booking(s) cancelled")
    assert person_rows(keyed, mzee.id) == [(f"~{mzee.id}", None, None, True)]
    assert bk.booking(booked.ref).status == "cancelled"
    assert [a.action for a in staff_actions(keyed)][-2:] == ["cancel", "erase"]
    again = ors_cli("citizens", "erase", "--person", str(mzee.id), "--reason", "asked")
    assert again == (1, "", "Error: no such person\n")  # erased already


def test_erasing_by_id_refuses_a_dependant_and_nobody_in_one_line(
    keyed: Runtime, ors_cli: Ors
) -> None:
    amina = keyed.booking.add_person(A, "Amina")
    for who, says in (
        (amina.id, f"person {amina.id} is a dependant: they are erased with their phone's holder"),
        (999_999, "no such person"),
    ):
        code, out, err = ors_cli("citizens", "erase", "--person", str(who), "--reason", "asked")
        assert (code, out) == (1, "") and one_line(err).startswith(f"Error: {says}")
    assert all(c.anonymised_at is None for c in citizens_of(keyed))
