"""The driver's fast path against SQLAlchemy's own execution (PostgreSQL), and its fallback.

Every registered DriverStatement runs both ways on the same data — each run in a savepoint
rolled back, so writes see the same rows — in a few scenes (a caller holding a place, one
booked, one checked in, one invited, one unknown), and must give the same rows, row count or
error. Parameters come from the statement's bind names: SCENE_BASE must name every one (a new
statement with a new name fails here until it gets a value), INSERT_ROWS every table a
registered INSERT writes. This is the check to run when upgrading SQLAlchemy (driver.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

import gateway.booking.service
import gateway.runtime  # noqa: F401
from gateway.booking.domain.states import BookingStatus, InvitationStatus, VoucherState
from gateway.booking.models import Booking, Citizen, Department, Hold, Hospital, Invitation, Voucher
from gateway.booking.operations.invitations import Offer
from gateway.booking.sql.driver import DriverStatement, Result, registered
from gateway.db import driver_of, make_engine, make_read_engine, with_driver
from gateway.runtime import Runtime, build_runtime
from gateway.settings import ConfigError, parse_settings
from tests.booking.conftest import at, slot_id

POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)
HELD, BOOKED, CHECKED_IN, INVITED = (
    "+254700000001",
    "+254700000002",
    "+254700000003",
    "+254700000004",
)
MON_0800, MON_0830, MON_0900 = (datetime(2026, 11, 23, h, m) for h, m in ((8, 0), (8, 30), (9, 0)))
WINDOW = Offer(
    window_from=date(2026, 11, 24), window_to=date(2026, 11, 27), expires=date(2026, 11, 26)
)
HERE = Path(__file__).parent
NEW_ID = 10**9  # an id no seeded row has: INSERT … RETURNING id gives the same both ways

Scene = dict[str, Any]


# --- the data: made through the service -------------------------------------------------------


@pytest.fixture
def scenes(catalog: Runtime) -> dict[str, Scene]:
    """Bookings, a check-in, a hold and an invitation, and the parameters that find each."""
    bk = catalog.booking
    bk.invite(INVITED, "KNH", "CARD", "dr-otieno", WINDOW)
    booked = bk.book(BOOKED, slot_id(catalog, "CARD", MON_0800), "ussd", "key-booked")
    came = bk.book(CHECKED_IN, slot_id(catalog, "CARD", MON_0830), "ivr", "key-came")
    at(catalog, 2026, 11, 23, 7, 0)
    bk.check_in(came.tcode, "KNH")
    bk.hold(HELD, "session-held", slot_id(catalog, "DERM", MON_0900))
    now = catalog.clock.now()
    with catalog.engine.connect() as conn:
        base = _base(conn, now)
        return {
            "held": {**base, **_held(conn, HELD)},
            "booked": {**base, **_booked(conn, booked.ref, BOOKED)},
            "checked_in": {**base, **_booked(conn, came.ref, CHECKED_IN)},
            # later: every hold and the invitation are past their expiry
            "later": {**base, **_held(conn, HELD), "now": now + timedelta(days=30)},
            # the invitation, and a booking and its slot to book it on
            "invited": {**base, **_booked(conn, booked.ref, BOOKED), **_invited(conn, INVITED)},
            "unknown": base,
        }


# A value for every bind name a registered statement has (a new name fails
# test_every_statement_has_parameters until it is given one here); alone, they match nothing.
SCENE_BASE: Scene = {
    "now": None,  # the clock's time, `after` too; `last` a fortnight on
    "after": None,
    "last": None,
    "day": date(2026, 11, 23),
    "after_id": 0,
    "limit": 10,
    "department_id": -1,
    "hospital_id": -1,
    "hospital": "KNH",
    "department": "CARD",
    "phone": "+254799999999",
    "citizen_id": -1,
    "holder": -1,
    "slot_id": -1,
    "seen_slot_id": -1,
    "hold_id": -1,
    "booking_id": -1,
    "voucher_id": -1,
    "invitation_id": -1,
    "ref": "NOSUCHREF",
    "tcode": "0000000000",
    "key": "no-key",
    "consent": None,
    "number": 7,
    "kiosk_id": None,
    "type": "booking.confirmed",
    "subject": "NOSUCHREF",
    "rank": 1,  # the phone's block: the second-longest of its persons' blocks
}


def _base(conn: Connection, now: datetime) -> Scene:
    dept = conn.execute(
        select(Department.id, Department.hospital_id)
        .join(Hospital)
        .where(Hospital.code == "KNH", Department.code == "CARD")
    ).one()
    return {
        **SCENE_BASE,
        "now": now,
        "after": now,
        "last": now.date() + timedelta(days=14),
        "department_id": dept.id,
        "hospital_id": dept.hospital_id,
    }


def _held(conn: Connection, phone: str) -> Scene:
    hold = conn.execute(select(Hold).where(Hold.phone == phone)).one()
    return {
        "phone": phone,
        "citizen_id": hold.citizen_id,
        "holder": hold.citizen_id,
        "slot_id": hold.slot_id,
        "hold_id": hold.id,
        "key": hold.session_key,
    }


def _booked(conn: Connection, ref: str, phone: str) -> Scene:
    booking = conn.execute(select(Booking).where(Booking.ref == ref)).one()
    voucher = conn.execute(select(Voucher).where(Voucher.booking_id == booking.id)).one()
    return {
        "phone": phone,
        "citizen_id": booking.citizen_id,
        "holder": booking.citizen_id,
        "slot_id": booking.slot_id,
        "seen_slot_id": booking.slot_id,
        "booking_id": booking.id,
        "voucher_id": voucher.id,
        "department_id": booking.department_id,
        "day": booking.day,
        "ref": ref,
        "subject": ref,
        "tcode": voucher.tcode,
        "key": booking.idempotency_key,
    }


def _invited(conn: Connection, phone: str) -> Scene:
    citizen = conn.execute(select(Citizen.id).where(Citizen.phone == phone)).scalar_one()
    invitation = conn.execute(select(Invitation).where(Invitation.citizen_id == citizen)).one()
    return {
        "phone": phone,
        "citizen_id": citizen,
        "holder": citizen,
        "invitation_id": invitation.id,
        "ref": invitation.ref,
        "department_id": invitation.department_id,
    }


# The rows a registered INSERT without VALUES writes, by table: the columns callers pass
# (others take their Python-side default, as on the hot path). Unique values collide with
# the scene's own rows where they can, so refusals are compared too.
INSERT_ROWS: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "events": lambda s: {
        "id": NEW_ID,
        "type": s["type"],
        "subject_id": s["subject"],
        "payload": {"ref": s["ref"], "n": 1},
        "created_at": s["now"],
    },
    "vouchers": lambda s: {
        "id": NEW_ID,
        "booking_id": s["booking_id"],
        "tcode": "9999999999",
        "ref": "CONFORMREF1",
        "key_id": "k1",
        "payload": "payload",
        "state": VoucherState.ISSUED,
        "created_at": s["now"],
    },
    "holds": lambda s: {
        "id": NEW_ID,
        "slot_id": s["slot_id"],
        "phone": s["phone"],
        "citizen_id": s["citizen_id"],
        "session_key": s["key"],
        "created_at": s["now"],
        "expires_at": s["now"] + timedelta(minutes=5),
    },
    "bookings": lambda s: {
        "id": NEW_ID,
        "ref": "CONFORM1",
        "citizen_id": s["citizen_id"],
        "slot_id": s["slot_id"],
        "department_id": s["department_id"],
        "day": s["day"],
        "status": BookingStatus.CONFIRMED,
        "channel": "ussd",
        "idempotency_key": s["key"],
        "created_at": s["now"],
        "confirmed_at": s["now"],
    },
    "invitations": lambda s: {
        "id": NEW_ID,
        "ref": s["ref"],
        "citizen_id": s["citizen_id"],
        "department_id": s["department_id"],
        "window_from": s["day"],
        "window_to": s["day"] + timedelta(days=3),
        "expires_at": s["now"] + timedelta(days=2),
        "status": InvitationStatus.OPEN,
        "created_by": "dr-conformance",
        "created_at": s["now"],
    },
}


# --- the statements and their parameters -------------------------------------------------------


def _statements() -> list[DriverStatement]:
    """The application's statements that can run on PostgreSQL (not the SQLite variants)."""
    return [
        s
        for s in registered()
        if s.origin.startswith("gateway.")
        and not type(s.statement).__module__.startswith(sqlite.__name__)
    ]


def _bind_names(statement: DriverStatement) -> set[str]:
    compiled: Any = statement.statement.compile(dialect=postgresql.psycopg.dialect())
    return {bind.key for bind in compiled.bind_names if bind.required}


def _table(statement: DriverStatement) -> str | None:
    """The table of an INSERT that names no values (its columns are the parameters given)."""
    stmt: Any = statement.statement
    if getattr(stmt, "is_insert", False) and not stmt._values and not stmt._multi_values:
        return str(stmt.table.name)
    return None


def _changes(statement: DriverStatement) -> bool:
    """An UPDATE or DELETE: the statements whose row count callers read (-1 otherwise)."""
    stmt = statement.statement
    return bool(getattr(stmt, "is_update", False) or getattr(stmt, "is_delete", False))


def _params(statement: DriverStatement, scene: Scene) -> dict[str, Any]:
    table = _table(statement)
    if table is not None:
        return INSERT_ROWS[table](scene)
    return {name: scene[name] for name in _bind_names(statement)}


def _name(statement: DriverStatement) -> str:
    return f"{statement.origin}: {str(statement.statement).splitlines()[0][:60]}…"


def test_every_statement_has_parameters() -> None:
    statements = _statements()
    assert len(statements) >= 30  # the hot paths' modules were imported
    missing = []
    for statement in statements:
        table = _table(statement)
        if table is not None:
            if table not in INSERT_ROWS:
                missing.append(f"{_name(statement)} INSERT_ROWS[{table!r}]")
        else:
            names = _bind_names(statement) - SCENE_BASE.keys()
            if names:
                missing.append(f"{_name(statement)} {sorted(names)}")
    assert not missing, "give these a value in the conformance test's scenes: " + "; ".join(missing)


Outcome = tuple[str, Any, int]


def _outcome(run: Callable[[], Result]) -> Outcome:
    try:
        result = run()
    except DBAPIError as exc:
        return ("error", type(exc).__name__ + "/" + type(exc.orig).__name__, 0)
    return ("rows", sorted(map(repr, result.rows)), result.rowcount)


def _both_ways(
    conn: Connection, statement: DriverStatement, params: Mapping[str, Any]
) -> tuple[Outcome, Outcome]:
    outcomes = []
    sequences = _sequences(conn)
    for run in (statement._on_driver, statement._on_sqlalchemy):
        _restore(conn, sequences)  # a rolled-back INSERT still drew its serial id
        savepoint = conn.begin_nested()
        try:
            outcomes.append(_outcome(lambda: run(conn, params)))  # noqa: B023 (called at once)
        finally:
            savepoint.rollback()
    return outcomes[0], outcomes[1]


def _sequences(conn: Connection) -> list[tuple[str, int | None]]:
    query = "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value"
    return [(name, last) for name, last in conn.exec_driver_sql(query + " FROM pg_sequences")]


def _restore(conn: Connection, sequences: list[tuple[str, int | None]]) -> None:
    calls = [
        f"setval('{name}', {last or 1}, {'true' if last else 'false'})" for name, last in sequences
    ]
    conn.exec_driver_sql("SELECT " + ", ".join(calls))


@POSTGRES
def test_every_statement_gives_the_same_result_both_ways(
    catalog: Runtime, scenes: dict[str, Scene]
) -> None:
    differences: list[str] = []
    matched: set[DriverStatement] = set()
    with catalog.engine.connect() as conn, conn.begin():
        for statement in _statements():
            for scene_name, scene in scenes.items():
                params = _params(statement, scene)
                fast, slow = _both_ways(conn, statement, params)
                if fast[0] == "rows" and (fast[1] or fast[2] > 0):
                    matched.add(statement)
                # SQLAlchemy counts only UPDATE and DELETE rows (-1 for the rest)
                counted = 3 if _changes(statement) else 2
                if fast[:counted] != slow[:counted]:
                    differences.append(f"{_name(statement)} [{scene_name}]: {fast} != {slow}")
        conn.rollback()
    assert not differences, "\n".join(differences)
    # each statement found or changed something in some scene: the comparison saw real rows
    idle = [_name(s) for s in _statements() if s not in matched]
    assert not idle, "no scene matches: " + "; ".join(idle)


# --- the fallback: database.driver = sqlalchemy ------------------------------------------------


@pytest.fixture
def fast_runs(monkeypatch: pytest.MonkeyPatch) -> list[DriverStatement]:
    """Every entry into the driver's fast path, recorded."""
    entered: list[DriverStatement] = []
    on_driver = DriverStatement._on_driver

    def counted(self: DriverStatement, conn: Connection, params: Mapping[str, Any]) -> Result:
        entered.append(self)
        return on_driver(self, conn, params)

    monkeypatch.setattr(DriverStatement, "_on_driver", counted)
    return entered


def _hold_book_check_in(rt: Runtime) -> None:
    sid = slot_id(rt, "CARD", MON_0800)
    rt.booking.hold(BOOKED, "session-1", sid)
    confirmation = rt.booking.book(BOOKED, sid, "ussd", "key-1")
    at(rt, 2026, 11, 23, 7, 0)
    ticket = rt.booking.check_in(confirmation.tcode, "KNH")
    assert ticket.queue_number == 1
    assert rt.booking.booking(confirmation.ref).status == BookingStatus.CHECKED_IN


@POSTGRES
def test_sqlalchemy_setting_never_enters_the_fast_path(
    catalog: Runtime, fast_runs: list[DriverStatement]
) -> None:
    engine = with_driver(catalog.engine, "sqlalchemy")
    rt = build_runtime(catalog.settings, engine=engine, clock=catalog.clock, keys=catalog.keys)
    _hold_book_check_in(rt)
    assert fast_runs == []


@POSTGRES
def test_fast_setting_runs_the_hot_paths_on_the_driver(
    catalog: Runtime, fast_runs: list[DriverStatement]
) -> None:
    _hold_book_check_in(catalog)
    assert len(fast_runs) > 10


def test_the_setting_reaches_both_engines() -> None:
    settings = parse_settings({"database": {"driver": "sqlalchemy"}}, {}, base_dir=HERE)
    assert settings.database_driver == "sqlalchemy"
    assert parse_settings({}, {}, base_dir=HERE).database_driver == "fast"
    with pytest.raises(ConfigError, match=r"database\.driver"):
        parse_settings({"database": {"driver": "turbo"}}, {}, base_dir=HERE)
    writes: Engine = make_engine("postgresql+psycopg://u@127.0.0.1:1/x", driver="sqlalchemy")
    reads = make_read_engine(writes)
    assert driver_of(writes) == driver_of(reads) == "sqlalchemy"
    assert driver_of(make_engine("sqlite://")) == "fast"
