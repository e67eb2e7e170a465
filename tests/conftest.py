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

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from gateway import migrate
from gateway.booking.models import Base
from gateway.cli import context, main
from gateway.clock import FixedClock
from gateway.db import make_engine
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings, load_settings
from gateway.voucher_keys import VoucherKeys
from tcode.keys import Keyring, SigningKey
from tests.log_audit import LogAudit

IN_CI = os.environ.get("CI", "").lower() == "true"
DATA = Path(__file__).parent / "data"
TEST_CATALOG = DATA / "catalog.yaml"
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


# --- nothing personal in any log line (issue 16) ----------------------------------------------
# Every record the suite logs is formatted as production formats it and checked for phone
# numbers, T-codes, voucher refs and national IDs; a leak fails the run at the end, naming the
# test and the line. (The suite runs in one process: no pytest-xdist, whose workers would each
# need their own audit.)

LOG_AUDIT = LogAudit()


def pytest_configure(config: pytest.Config) -> None:
    LOG_AUDIT.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:  # only if a test made a tmp dir
        LOG_AUDIT.read_files(factory.getbasetemp())
    if LOG_AUDIT.leaks and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = LOG_AUDIT.report()
    if report:
        terminalreporter.section("personal data in log lines", sep="=", red=True, bold=True)
        for line in report:
            terminalreporter.write_line(line)


def service_missing(reason: str) -> None:
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
        engine = make_engine(url, pool_size=60, max_overflow=20)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine)
    except Exception as exc:  # unreachable server, bad URL, ...
        yield None
        pytest.ors_pg_error = str(exc)  # type: ignore[attr-defined]
        return
    yield engine
    engine.dispose()
    _drop_database(url)


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
    backend: str, sqlite_template: Path, tmp_path: Path, pg_engine: Engine | None
) -> Iterator[Engine]:
    if backend == "sqlite":
        path = tmp_path / "ors.sqlite3"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    if pg_engine is None:
        service_missing(
            "PostgreSQL: set ORS_TEST_DATABASE_URL to a reachable server "
            f"({getattr(pytest, 'ors_pg_error', 'not set')})"
        )
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield pg_engine


@pytest.fixture
def redis_client():  # type: ignore[no-untyped-def]
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
def catalog(runtime: Runtime) -> Runtime:
    """The runtime with the test catalogue loaded and 14 days of slots."""
    runtime.booking.load_catalog(TEST_CATALOG)
    runtime.booking.generate_slots(15)
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
