"""The `ors` command: exit codes, stdout and one-line errors on stderr.

Commands run in this process (tests/cli/in_process.py); the smoke tests at the end run the
installed `ors` in a real process.
"""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from gateway.booking.models import Base, Hospital, Kiosk
from gateway.db import make_engine
from gateway.settings import REPO_CONFIG
from tests.cli.in_process import Run, in_process, in_subprocess

TEST_CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog.yaml"
KIOSK_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


def write_config(folder: Path, **changes: Any) -> Path:
    """config.yaml with the data folder inside `folder` and `changes` to booking.defaults."""
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(folder / "data")
    raw["booking"]["defaults"].update(changes)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture
def ors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `ors ARGS…` in this process on a config whose SQLite file lives in tmp_path."""
    return in_process(write_config(tmp_path), tmp_path, monkeypatch, capsys)


@pytest.fixture
def ors_process(tmp_path: Path) -> Run:
    """Run `ors ARGS…` in a real process, on the same kind of config."""
    return in_subprocess(write_config(tmp_path), tmp_path)


@pytest.fixture
def loaded(ors: Run) -> Run:
    """`ors` on a migrated database holding the test catalogue."""
    for args in (["migrate"], ["catalog", "load", str(TEST_CATALOG)]):
        done = ors(*args)
        assert done.returncode == 0, done.stderr
    return ors


def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ors.sqlite3'}"


def row_counts(tmp_path: Path) -> dict[str, int]:
    engine = make_engine(database(tmp_path))
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- kiosks -----------------------------------------------------------------------------------


def test_kiosk_add_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(
    loaded: Run, tmp_path: Path
) -> None:
    done = loaded("kiosk", "add", "--hospital", "KNH", "--name", "Front desk")
    assert done.returncode == 0, done.stderr
    key = done.stdout.rstrip("\n").splitlines()[-1]
    assert KIOSK_KEY.fullmatch(key), done.stdout
    engine = make_engine(database(tmp_path))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Kiosk.__table__, Hospital.code).join(
                    Hospital, Kiosk.hospital_id == Hospital.id
                )
            ).all()
    finally:
        engine.dispose()
    [row] = rows
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert (row.name, row.code) == ("Front desk", "KNH")
    assert key not in " ".join(str(value) for value in row)
    assert key not in done.stderr


def test_each_kiosk_gets_its_own_key(loaded: Run) -> None:
    keys = {
        loaded("kiosk", "add", "--hospital", "MCH", "--name", f"Kiosk {n}").stdout.splitlines()[-1]
        for n in range(2)
    }
    assert len(keys) == 2 and all(KIOSK_KEY.fullmatch(k) for k in keys)


def test_kiosk_add_at_an_unknown_hospital_fails_with_one_line(loaded: Run, tmp_path: Path) -> None:
    done = loaded("kiosk", "add", "--hospital", "NOPE", "--name", "X")
    assert done.returncode != 0
    assert "NOPE" in one_line(done.stderr)
    assert done.stdout == ""
    assert row_counts(tmp_path)["kiosks"] == 0


# --- keys -------------------------------------------------------------------------------------


def test_keys_new_writes_a_private_file_and_never_overwrites_it(ors: Run, tmp_path: Path) -> None:
    out = tmp_path / "voucher-key.pem"
    done = ors("keys", "new", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    pem = out.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")

    again = ors("keys", "new", "--out", str(out))
    assert again.returncode != 0
    assert str(out.name) in one_line(again.stderr)
    assert out.read_bytes() == pem


def test_keys_show_prints_the_signing_public_key(ors: Run) -> None:
    done = ors("keys", "show")
    assert done.returncode == 0, done.stderr
    assert "(signing)" in done.stdout
    assert "-----BEGIN PUBLIC KEY-----" in done.stdout
    assert "PRIVATE" not in done.stdout


def test_help_lists_the_commands(ors_process: Run) -> None:
    done = ors_process("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ors ")
    assert all(f"  {name} " in done.stdout for name in ("migrate", "catalog", "kiosk", "worker"))
    assert done.stderr == ""


# --- catalogue and slots ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [[], ["tests/data/catalog.yaml", "--demo"]], ids=["neither FILE nor --demo", "both"]
)
def test_catalog_load_needs_exactly_one_source(ors: Run, args: list[str]) -> None:
    done = ors("catalog", "load", *args)
    assert done.returncode == 2
    assert "Usage:" in done.stderr
    assert "FILE or --demo" in done.stderr
    assert done.stdout == ""


def test_catalog_load_of_a_bad_file_names_the_path_and_changes_nothing(
    loaded: Run, tmp_path: Path
) -> None:
    raw = yaml.safe_load(TEST_CATALOG.read_text(encoding="utf-8"))
    raw["cities"][0]["name"] = "Renamed"
    del raw["cities"][0]["hospitals"][0]["departments"][1]["code"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    before = row_counts(tmp_path)
    done = loaded("catalog", "load", str(bad))
    assert done.returncode != 0
    assert "cities[0].hospitals[0].departments[1].code: missing" in one_line(done.stderr)
    assert row_counts(tmp_path) == before


def test_catalog_load_prints_what_it_loaded_and_warns_per_transliterated_name(
    ors: Run, tmp_path: Path
) -> None:
    raw = yaml.safe_load(TEST_CATALOG.read_text(encoding="utf-8"))
    raw["cities"][0]["hospitals"][1]["name"] = "Hôpital Général"
    path = tmp_path / "accented.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert ors("migrate").returncode == 0
    done = ors("catalog", "load", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "loaded 2 cities, 3 hospitals, 5 departments, 1 doctors, 26 weekly sessions"
    )
    [warning] = done.stderr.strip().splitlines()
    assert warning.startswith("warning: ") and "MCH" in warning and "Hopital General" in warning


def test_the_demo_catalogue_loads_from_the_command_line(ors_process: Run) -> None:
    # In a real process: the installed entry point, a migration and a load, stdout only.
    assert ors_process("migrate").returncode == 0
    done = ors_process("catalog", "load", "--demo")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"loaded 3 cities, \d+ hospitals, \d+ departments, \d+ doctors, "
        r"\d+ weekly sessions",
        done.stdout.strip(),
    )


def test_slots_generate_is_idempotent(loaded: Run) -> None:
    first = loaded("slots", "generate", "--days", "3")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"slots: [1-9]\d* created, 0 updated, 0 removed", first.stdout.strip())
    again = loaded("slots", "generate", "--days", "3")
    assert again.stdout.strip() == "slots: 0 created, 0 updated, 0 removed"


# --- configuration errors ---------------------------------------------------------------------


def test_a_bad_setting_stops_the_command_with_one_line_naming_it(
    ors_process: Run, tmp_path: Path
) -> None:
    # In a real process: the exit code and the one stderr line are what a shell sees.
    folder = tmp_path / "bad-config"
    folder.mkdir()
    done = ors_process("migrate", config=write_config(folder, max_per_day="x"))
    assert done.returncode != 0
    assert one_line(done.stderr).startswith("ors: booking.defaults.max_per_day: ")
    assert done.stdout == ""


def test_a_missing_config_file_stops_the_command_with_one_line(ors: Run, tmp_path: Path) -> None:
    done = ors("migrate", config=tmp_path / "nowhere.yaml")
    assert done.returncode != 0
    assert one_line(done.stderr).startswith("ors: ORS_CONFIG: ")


def test_a_missing_catalogue_file_stops_the_command_with_one_line(ors: Run) -> None:
    assert ors("migrate").returncode == 0
    done = ors("catalog", "load", "no-such-catalog.yaml")
    assert done.returncode != 0
    assert "no-such-catalog.yaml" in one_line(done.stderr)


# --- database errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["kiosk", "add", "--hospital", "KNH", "--name", "X"], ["catalog", "load", "--demo"]],
    ids=["kiosk add", "catalog load"],
)
def test_a_database_without_schema_stops_the_command_with_one_line(
    ors: Run, args: list[str]
) -> None:
    done = ors(*args)  # `ors migrate` was never run
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert one_line(done.stderr).startswith("ors: ")


def test_an_unreachable_database_stops_migrate_with_one_line(ors: Run, tmp_path: Path) -> None:
    key = tmp_path / "voucher-key.pem"
    assert ors("keys", "new", "--out", str(key)).returncode == 0
    done = ors(
        "migrate",
        ORS_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=1",
        ORS_VOUCHER_KEY=str(key),
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert one_line(done.stderr).startswith("ors: ")
