"""A dependant moves to a phone of their own by SMS, confirmed from both phones (issue #19 item
4): the operation under the MOVE command (tests/messaging/test_person_move_sms.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from gateway import migrate
from gateway.booking.domain.errors import CodeLimit, NotFound, PhoneInUse
from gateway.booking.models import Base, Booking, PersonMove
from gateway.booking.operations.person_moves import Confirmed
from gateway.booking.privacy import erasure
from gateway.booking.sql.uow import UnitOfWork
from gateway.runtime import Runtime
from tests.booking.conftest import (
    POSTGRES_ONLY,
    events,
    last_event_id,
    slot_id,
    staff_actions,
    use_id_hash_key,
)
from tests.booking.races import race
from tests.clocks import clock_of

MOTHER, GROWN, OTHER = "+254700000401", "+254700000402", "+254700000403"


def card(rt: Runtime, day: int, hour: int = 8) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


def ask(rt: Runtime, person_id: int, new_phone: str = GROWN) -> str:
    """Ask for the move from the mother's phone; return the code texted to the new phone."""
    before = last_event_id(rt)
    rt.booking.request_person_move(MOTHER, person_id, new_phone, "en")
    (sent,) = events(rt, before)
    assert (sent.type, sent.payload["phone"]) == ("person.move_code", new_phone)
    return str(sent.payload["code"])


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def moves(rt: Runtime) -> list[PersonMove]:
    with rt.reader() as s:
        return list(s.scalars(select(PersonMove).order_by(PersonMove.id)))


def owner_of(rt: Runtime, ref: str) -> int:
    with rt.reader() as s:
        return s.scalars(select(Booking.citizen_id).where(Booking.ref == ref)).one()


def test_the_right_code_from_the_new_phone_moves_the_future_bookings(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina Wanjiru")
    booked = bk.book(MOTHER, card(catalog, 25), "ussd", person_id=amina.id)
    code = ask(catalog, amina.id)
    assert bk.upcoming(GROWN) == []  # nothing moves before the new phone answers
    before = last_event_id(catalog)
    assert bk.confirm_person_move(GROWN, code, "sw") == Confirmed("moved", person="Amina")
    (holder,) = bk.persons(GROWN)
    assert (holder.name, holder.me) == ("Amina Wanjiru", True)
    assert owner_of(catalog, booked.ref) == holder.id
    assert [b.ref for b in bk.upcoming(GROWN)] == [booked.ref]
    assert [p.me for p in bk.persons(MOTHER)] == [True]
    (moved,) = events(catalog, before)
    assert (moved.type, moved.payload["phone"], moved.payload["language"]) == (
        "person.moved",
        GROWN,
        "sw",
    )
    assert [(a.actor, a.action, a.subject) for a in staff_actions(catalog)] == [
        ("sms", "move_person", str(amina.id))
    ]
    (done,) = moves(catalog)
    assert done.done_at is not None and done.cancelled_at is None
    assert len(done.code_hash) == 64  # only a keyed hash of the code is kept
    assert bk.confirm_person_move(GROWN, code) == Confirmed("spent")  # once


def test_three_wrong_codes_drop_the_move(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    code = ask(catalog, amina.id)
    outcomes = [bk.confirm_person_move(GROWN, wrong(code)) for _ in range(3)]
    assert outcomes == [
        Confirmed("wrong", tries_left=2),
        Confirmed("wrong", tries_left=1),
        Confirmed("dropped"),
    ]
    assert bk.confirm_person_move(GROWN, code) == Confirmed("spent")
    assert [p.first_name for p in bk.persons(MOTHER)] == ["", "Amina"]
    assert moves(catalog)[0].cancelled_at is not None


def test_a_code_expires_after_a_day(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    code = ask(catalog, amina.id)
    clock_of(catalog).advance(hours=24)
    assert bk.confirm_person_move(GROWN, code) == Confirmed("spent")
    assert [p.first_name for p in bk.persons(MOTHER)] == ["", "Amina"]


def test_a_new_request_replaces_the_pending_one(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    first = ask(catalog, amina.id, OTHER)
    second = ask(catalog, amina.id)
    assert bk.confirm_person_move(OTHER, first) == Confirmed("spent")
    assert [(m.new_phone, m.cancelled_at is None) for m in moves(catalog)] == [
        (OTHER, False),
        (GROWN, True),
    ]
    assert bk.confirm_person_move(GROWN, second).outcome == "moved"


@pytest.mark.parametrize("new_phone", [OTHER, MOTHER], ids=["booked", "the-guardians-own"])
def test_a_phone_in_use_is_refused_when_asked(catalog: Runtime, new_phone: str) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    bk.book(OTHER, card(catalog, 24), "ussd")
    before = last_event_id(catalog)
    with pytest.raises(PhoneInUse):
        bk.request_person_move(MOTHER, amina.id, new_phone)
    assert events(catalog, before) == [] and moves(catalog) == []


def test_a_phone_that_became_someones_meanwhile_is_refused_when_confirmed(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    hers = bk.book(MOTHER, card(catalog, 25), "ussd", person_id=amina.id)
    code = ask(catalog, amina.id)
    bk.book(GROWN, card(catalog, 24), "ussd")  # the new phone books for itself meanwhile
    assert bk.confirm_person_move(GROWN, code) == Confirmed("taken", person="Amina")
    assert owner_of(catalog, hers.ref) == amina.id
    assert moves(catalog)[0].cancelled_at is not None
    assert staff_actions(catalog) == []  # the refused move left nothing behind


def test_a_person_hidden_since_the_request_does_not_move(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    code = ask(catalog, amina.id)
    bk.hide_person(MOTHER, amina.id)
    assert bk.confirm_person_move(GROWN, code) == Confirmed("spent")
    assert [p.name for p in bk.persons(GROWN)] == [None]


def test_only_a_shown_dependant_of_the_asking_phone_can_be_moved(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    bk.hide_person(MOTHER, amina.id)
    baraka = bk.add_person(OTHER, "Baraka")
    me = bk.persons(MOTHER)[0]
    for phone, person_id in ((MOTHER, amina.id), (MOTHER, baraka.id), (MOTHER, me.id)):
        with pytest.raises(NotFound):
            bk.request_person_move(phone, person_id, GROWN)
    with pytest.raises(NotFound):  # a phone never seen has no one
        bk.request_person_move("+254700000409", baraka.id, GROWN)


def test_codes_are_limited_per_guardian_and_per_new_phone(catalog: Runtime) -> None:
    bk = catalog.booking
    amina, baraka = bk.add_person(MOTHER, "Amina"), bk.add_person(OTHER, "Baraka")
    for _ in range(3):
        ask(catalog, amina.id)
    with pytest.raises(CodeLimit):
        bk.request_person_move(MOTHER, amina.id, "+254700000408")  # the guardian's hour is up
    with pytest.raises(CodeLimit):
        bk.request_person_move(OTHER, baraka.id, GROWN)  # and the new phone's
    clock_of(catalog).advance(minutes=61)
    bk.request_person_move(OTHER, baraka.id, "+254700000408")


def test_erasing_either_phone_forgets_its_moves(catalog: Runtime) -> None:
    bk = catalog.booking
    use_id_hash_key(catalog)
    ask(catalog, bk.add_person(MOTHER, "Amina").id)
    request = erasure.Request(GROWN, "asked at the desk", "desk-1", cancel_future=True)
    with UnitOfWork(catalog.writer) as uow:
        secrets = bk.settings.secrets
        erasure.erase(uow.session, bk.rules, request, secrets.id_hash_key, catalog.clock.now())
        uow.commit()
    assert moves(catalog) == []


# --- races on PostgreSQL ---------------------------------------------------------------------


def move_outcome(call: Callable[[], object]) -> str:
    """What a move request or reply came to; a deadlock or any error is an outcome to count."""
    try:
        done = call()
    except Exception as exc:
        return type(exc).__name__
    return done.outcome if isinstance(done, Confirmed) else "asked"


@POSTGRES_ONLY
def test_racing_replies_never_try_more_than_three_codes_or_move_twice(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    code = ask(catalog, amina.id)
    tried = race(8, lambda i: bk.confirm_person_move(GROWN, wrong(code)), move_outcome)
    assert tried == Counter({"wrong": 2, "dropped": 1, "spent": 5})
    code = ask(catalog, amina.id)
    assert race(6, lambda i: bk.confirm_person_move(GROWN, code), move_outcome) == Counter(
        {"moved": 1, "spent": 5}
    )
    assert [p.me for p in bk.persons(MOTHER)] == [True]  # Amina moved, once


@POSTGRES_ONLY
def test_requests_and_replies_racing_for_one_person_never_deadlock(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    code = ask(catalog, amina.id)

    def attempt(i: int) -> object:
        if i % 2:
            return bk.confirm_person_move(GROWN, code)
        return bk.request_person_move(MOTHER, amina.id, GROWN)

    outcomes = race(4, attempt, move_outcome)
    assert set(outcomes) <= {"asked", "moved", "spent", "CodeLimit", "NotFound"}, outcomes


# --- the table --------------------------------------------------------------------------------


def test_the_migrated_table_matches_the_model(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "person_moves" in repr(d)] == []


def test_the_table_goes_with_a_downgrade(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":  # the shared PostgreSQL schema stays as it is
        return
    from alembic import command

    config = migrate.alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    assert "person_moves" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "person_moves" in inspect(engine).get_table_names()


def test_the_code_lives_a_day(catalog: Runtime) -> None:
    amina = catalog.booking.add_person(MOTHER, "Amina")
    ask(catalog, amina.id)
    (pending,) = moves(catalog)
    assert pending.expires_at - pending.created_at == timedelta(hours=24)
