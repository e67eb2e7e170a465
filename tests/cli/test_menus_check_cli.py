"""`ors menus check` (run in this process) on the names of the loaded catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.in_process import Run, in_process

# 80 characters: longer than any screen with a hospital name on it can hold.
OVER_LONG = "Jaramogi Oginga Odinga Teaching, Referral and Research Hospital of Kisumu County"
OVER_LONG_CATALOG = f"""\
cities:
  - code: KSM
    name: Kisumu
    hospitals:
      - code: JOOTRH2
        name: "{OVER_LONG}"
        timezone: Africa/Nairobi
        departments:
          - code: OPD
            name: Outpatients
            schedules:
              - days: [mon, tue, wed, thu, fri]
                start: "08:00"
                end: "12:00"
                slot_minutes: 30
                places: 4
"""


@pytest.fixture
def ors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `ors ARGS...` in this process on a config whose SQLite database lives in tmp_path."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f'app:\n  public_base_url: "http://127.0.0.1:5000"\n  data_dir: {tmp_path / "var"}\n',
        encoding="utf-8",
    )
    return in_process(config, tmp_path, monkeypatch, capsys)


def test_the_demo_catalogue_fits_every_screen(ors: Run) -> None:
    assert ors("migrate").returncode == 0
    assert ors("catalog", "load", "--demo").returncode == 0

    checked = ors("menus", "check")

    assert checked.returncode == 0, checked.stderr
    assert "all screens fit in 2 languages" in checked.stdout
    assert "Jaramogi Oginga Odinga Teaching and Referral Hospital" in checked.stdout
    assert checked.stderr == ""


def test_an_over_long_hospital_name_fails_naming_the_screens(ors: Run, tmp_path: Path) -> None:
    assert len(OVER_LONG) == 80
    catalog = tmp_path / "long.yaml"
    catalog.write_text(OVER_LONG_CATALOG, encoding="utf-8")
    assert ors("migrate").returncode == 0
    assert ors("catalog", "load", "--demo").returncode == 0
    loaded = ors("catalog", "load", str(catalog))
    assert loaded.returncode == 0, loaded.stderr

    checked = ors("menus", "check")

    assert checked.returncode != 0
    reported = checked.stderr.splitlines()
    for line in ("en confirm page 1:", "sw confirm page 1:", "en booked page 1:"):
        assert any(r.startswith(line) and r.endswith("characters") for r in reported), line
    assert "exceed the USSD limits" in checked.stderr


def test_an_over_long_translated_name_fails_too(ors: Run, tmp_path: Path) -> None:
    catalog = tmp_path / "long_sw.yaml"
    catalog.write_text(
        OVER_LONG_CATALOG.replace(
            f'name: "{OVER_LONG}"', f'name: Kisumu Hospital\n        names: {{sw: "{OVER_LONG}"}}'
        ),
        encoding="utf-8",
    )
    assert ors("migrate").returncode == 0
    assert ors("catalog", "load", str(catalog)).returncode == 0

    checked = ors("menus", "check")

    assert checked.returncode != 0
    assert "sw booked page 1:" in checked.stderr


def test_an_empty_catalogue_is_an_error_not_a_pass(ors: Run) -> None:
    assert ors("migrate").returncode == 0

    checked = ors("menus", "check")

    assert checked.returncode != 0
    assert "ors catalog load" in checked.stderr


def test_the_configured_longest_first_name_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A first name twice the default's length: the screens naming a dependant cannot hold it.
    config = tmp_path / "config.yaml"
    config.write_text(
        f'app:\n  public_base_url: "http://127.0.0.1:5000"\n  data_dir: {tmp_path / "var"}\n'
        "booking:\n  persons:\n    name_max_length: 40\n",
        encoding="utf-8",
    )
    ors = in_process(config, tmp_path, monkeypatch, capsys)
    assert ors("migrate").returncode == 0
    assert ors("catalog", "load", "--demo").returncode == 0

    checked = ors("menus", "check")

    assert checked.returncode != 0
    reported = checked.stderr.splitlines()
    for line in ("en confirm page 1:", "sw booked page 1:"):
        assert any(r.startswith(line) for r in reported), (line, reported)
