"""The cheap per-test reset of PostgreSQL (tests/seed.py) gives exactly a freshly seeded database.

Whatever a test left behind (bookings, taken or closed slots, extra slots, another catalogue,
a renamed hospital, used ids), the next test must see the rows and the next ids that loading
the test catalogue on an empty database gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from gateway.booking.models import Base, Slot
from gateway.clock import FixedClock
from gateway.runtime import Runtime, build_runtime
from gateway.settings import load_settings
from gateway.voucher_keys import VoucherKeys
from tests.conftest import MONDAY_0600, service_missing
from tests.seed import PgSeed, load_test_catalogue

pytestmark = pytest.mark.postgres
DEMO_CATALOG = Path(__file__).resolve().parents[1] / "gateway" / "demo" / "catalog.yaml"
Fingerprint = tuple[dict[str, list[tuple[object, ...]]], dict[str, tuple[object, ...]]]


@pytest.fixture
def pg(pg_engine: Engine | None, pg_seed: PgSeed | None) -> tuple[Engine, PgSeed]:
    if pg_engine is None or pg_seed is None:
        service_missing("PostgreSQL: set ORS_TEST_DATABASE_URL to a reachable server")
    assert pg_engine is not None and pg_seed is not None
    return pg_engine, pg_seed


@pytest.fixture
def make_rt(tmp_path: Path, voucher_keys: VoucherKeys) -> Callable[[Engine], Runtime]:
    def make(engine: Engine) -> Runtime:
        settings = load_settings(env={}).with_overrides(data_dir=tmp_path / "data")
        return build_runtime(
            settings, engine=engine, clock=FixedClock(MONDAY_0600), keys=voucher_keys
        )

    return make


def fingerprint(engine: Engine) -> Fingerprint:
    """Every row of every table, and where each sequence stands."""
    with engine.connect() as conn:
        rows = {
            t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }
        names = conn.exec_driver_sql(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).scalars()
        sequences = {
            n: tuple(conn.exec_driver_sql(f"SELECT last_value, is_called FROM {n}").one())
            for n in names
        }
    return rows, sequences


def fresh(engine: Engine, seed: PgSeed, make_rt: Callable[[Engine], Runtime]) -> Fingerprint:
    """The slow way: an empty database and the catalogue loaded as `catalog` used to."""
    seed.reset(engine, seeded=False)
    load_test_catalogue(make_rt(engine))
    return fingerprint(engine)


def book_something(rt: Runtime) -> None:
    with rt.reader() as s:
        first = s.scalars(select(Slot.id).order_by(Slot.starts_at, Slot.id).limit(1)).one()
    rt.booking.book("+254700000001", first, "ussd")


def dirty_slots_only(engine: Engine, rt: Runtime) -> None:
    book_something(rt)
    rt.booking.generate_slots(17)  # slots past the seeded horizon
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE slots SET closed_at = now(), capacity = capacity + 3 WHERE mod(id, 7) = 0"
        )
        conn.exec_driver_sql("DELETE FROM slots WHERE id = 940")


def dirty_catalogue(engine: Engine, rt: Runtime) -> None:
    book_something(rt)
    rt.booking.load_catalog(DEMO_CATALOG)
    rt.booking.generate_slots(3)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE hospitals SET name = name || ' (renamed)'")


@pytest.mark.parametrize("dirty", [dirty_slots_only, dirty_catalogue])
def test_a_reset_after_any_mess_gives_what_a_fresh_seed_gives(
    pg: tuple[Engine, PgSeed],
    make_rt: Callable[[Engine], Runtime],
    dirty: Callable[[Engine, Runtime], None],
) -> None:
    engine, seed = pg
    expected = fresh(engine, seed, make_rt)
    seed.reset(engine, seeded=True)
    assert fingerprint(engine) == expected

    dirty(engine, make_rt(engine))
    assert fingerprint(engine) != expected
    seed.reset(engine, seeded=True)
    assert fingerprint(engine) == expected


def test_an_empty_reset_leaves_no_row_and_restarts_every_id(
    pg: tuple[Engine, PgSeed], make_rt: Callable[[Engine], Runtime]
) -> None:
    engine, seed = pg
    seed.reset(engine, seeded=True)
    dirty_slots_only(engine, make_rt(engine))
    seed.reset(engine, seeded=False)
    rows, sequences = fingerprint(engine)
    assert {t: r for t, r in rows.items() if r} == {}
    assert set(sequences.values()) == {(1, False)}
