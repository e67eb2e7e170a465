"""Fixtures shared by the whole suite.

`backend` runs a test on SQLite and on PostgreSQL. Locally a missing PostgreSQL or Redis
skips those tests with the reason; under CI=true it fails them, so CI cannot go green on
skipped database tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from gateway import migrate
from gateway.cli import context, main
from gateway.clock import FixedClock
from gateway.db import make_engine
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings, load_settings
from gateway.staff import passwords
from gateway.voucher_keys import VoucherKeys
from tcode.keys import Keyring, SigningKey
from tests.log_audit import LogAudit
from tests.scheduling import make_scheduler
from tests.seed import TEST_CATALOG as TEST_CATALOG
from tests.seed import (  # the tests import it from here
    PgSeed,
    SeedConditions,
    delete_everything,
    load_test_catalogue,
    restart_every_sequence,
)
from tests.workers import hand_over, is_controller, take_over, worker_index, worker_redis_url

if TYPE_CHECKING:
    from redis import Redis

IN_CI = os.environ.get("CI", "").lower() == "true"
# Monday 23 November 2026, 06:00 in Nairobi: before the morning sessions open.
MONDAY_0600 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

hypothesis_settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "dev", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("ci" if IN_CI else "dev")

# Staff passwords hash in about a millisecond instead of 85 (argon2id all the same): console
# tests sign in hundreds of times. tests/staff/test_accounts.py checks the production hasher.
passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


# --- nothing personal in any log line (issue 16) ----------------------------------------------
# Every record the suite logs is formatted as production formats it and checked for phone
# numbers, T-codes, voucher refs and national IDs; a leak fails the run at the end, naming the
# test and the line. Under pytest-xdist each worker audits its own lines and log files and
# hands the leaks to the controller, which reports them (tests/workers.py).

LOG_AUDIT = LogAudit()


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown when it is not installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return make_scheduler(config, log)


def pytest_configure(config: pytest.Config) -> None:
    LOG_AUDIT.install()
    index = worker_index(config)
    redis_url = os.environ.get("ORS_TEST_REDIS_URL")
    if index is not None and redis_url:
        # Set before collection, so modules that read it at import and subprocesses see it too.
        os.environ["ORS_TEST_REDIS_URL"] = worker_redis_url(redis_url, index)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    controller = is_controller(session.config)  # its workers read their own folders
    if not controller and factory is not None and factory._basetemp is not None:
        LOG_AUDIT.read_files(factory.getbasetemp())  # only if a test made a tmp dir
    if worker_index(session.config) is not None:
        hand_over(LOG_AUDIT, session.config)
    if LOG_AUDIT.leaks and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Take over the log audit of an xdist worker that finished."""
    take_over(LOG_AUDIT, getattr(node, "workeroutput", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = LOG_AUDIT.report()
    if report:
        terminalreporter.section("personal data in log lines", sep="=", red=True, bold=True)
        for line in report:
            terminalreporter.write_line(line)


def service_missing(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"CI needs this service: {reason}")
    pytest.skip(reason)


# --- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (far faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def seed_conditions() -> SeedConditions:
    """The clock and rules every seeded database was made with: the tests' defaults."""
    return SeedConditions(MONDAY_0600, load_settings(env={}).booking)


def _seed(settings: Settings, engine: Engine, keys: VoucherKeys, expected: SeedConditions) -> None:
    rt = build_runtime(settings, engine=engine, clock=FixedClock(MONDAY_0600), keys=keys)
    expected.check(rt)
    load_test_catalogue(rt)


@pytest.fixture(scope="session")
def sqlite_seeded(
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    voucher_keys: VoucherKeys,
    seed_conditions: SeedConditions,
) -> Path:
    """The migrated SQLite file with the test catalogue and its slots, copied for each test."""
    folder = tmp_path_factory.mktemp("seeded")
    path = folder / "seeded.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    settings = load_settings(env={}).with_overrides(data_dir=folder / "data")
    _seed(settings, engine, voucher_keys, seed_conditions)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine | None]:
    base = os.environ.get("ORS_TEST_DATABASE_URL")
    if not base:
        yield None
        return
    # One database per test run, so parallel runs on one server never truncate each other's rows.
    target = make_url(base)
    url = target.set(database=f"{target.database}_{os.getpid()}").render_as_string(
        hide_password=False
    )
    try:
        _create_database(url)
        # Races open up to 80 connections at once; only 5 stay open between tests, so two
        # xdist workers never hold the server's 100 connections between them.
        engine = make_engine(url, pool_size=5, max_overflow=75)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine)
    except Exception as exc:  # unreachable server, bad URL, ...
        pytest.ors_pg_error = str(exc)  # type: ignore[attr-defined]  # read by engine's skip
        yield None
        return
    yield engine
    engine.dispose()
    _drop_database(url)


@pytest.fixture(scope="session")
def pg_seed(
    pg_engine: Engine | None,
    tmp_path_factory: pytest.TempPathFactory,
    voucher_keys: VoucherKeys,
    seed_conditions: SeedConditions,
) -> PgSeed | None:
    """This process's PostgreSQL database seeded once; `engine` resets it for each test."""
    if pg_engine is None:
        return None
    with pg_engine.begin() as conn:
        delete_everything(conn)
        restart_every_sequence(conn)
    folder = tmp_path_factory.mktemp("pg-seed")
    settings = load_settings(env={}).with_overrides(data_dir=folder / "data")
    _seed(settings, pg_engine, voucher_keys, seed_conditions)
    return PgSeed.take(pg_engine)


def _admin(url: str) -> Engine:
    target = make_url(url)
    return make_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )


def _drop_database(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _create_database(url: str) -> None:
    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, pg_engine: Engine | None
) -> Iterator[Engine]:
    """An empty migrated database, or (for a test that uses `catalog`) one already seeded."""
    seeded = "catalog" in request.fixturenames
    if backend == "sqlite":
        path = tmp_path / "ors.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_seeded" if seeded else "sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    seed: PgSeed | None = request.getfixturevalue("pg_seed")
    if pg_engine is None or seed is None:
        service_missing(
            "PostgreSQL: set ORS_TEST_DATABASE_URL to a reachable server "
            f"({getattr(pytest, 'ors_pg_error', 'not set')})"
        )
    seed.reset(pg_engine, seeded=seeded)
    yield pg_engine


@pytest.fixture
def redis_client() -> Iterator[Redis]:
    from redis import Redis
    from redis.exceptions import RedisError

    url = os.environ.get("ORS_TEST_REDIS_URL")
    if not url:
        service_missing("Redis: set ORS_TEST_REDIS_URL")
    client = Redis.from_url(url)
    try:
        client.flushdb()
    except RedisError as exc:
        service_missing(f"Redis at {url}: {exc}")
    yield client
    client.flushdb()
    client.close()


# --- runtime ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def voucher_keys() -> VoucherKeys:
    signing = SigningKey.generate()
    return VoucherKeys(signing=signing, keyring=Keyring([signing.public_key]))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_0600)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}).with_overrides(data_dir=tmp_path / "data")


@pytest.fixture
def runtime(
    settings: Settings, engine: Engine, clock: FixedClock, voucher_keys: VoucherKeys
) -> Iterator[Runtime]:
    rt = build_runtime(settings, engine=engine, clock=clock, keys=voucher_keys)
    yield rt
    if engine.dialect.name == "sqlite":
        engine.dispose()


@pytest.fixture
def catalog(runtime: Runtime, seed_conditions: SeedConditions) -> Runtime:
    """The runtime with the test catalogue loaded and 14 days of slots.

    `engine` has seeded the database already (see tests/seed.py): this only checks that the
    runtime's clock and rules are the ones the seed was made with.
    """
    seed_conditions.check(runtime)
    return runtime


# --- the command line ---------------------------------------------------------------------


Ors = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ors_cli(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Ors:
    """Run `ors ARGS…` through `main` on the test runtime; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(context, "runtime", lambda settings=None: catalog)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ors", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, one per test worker for every browser test (tests/browsers.py):
    Playwright's sync API allows one instance per process."""
    from tests.browsers import chromium

    with chromium() as launched:
        yield launched
