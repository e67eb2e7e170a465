"""docs/catalogue.md and examples/hospitals.yaml: the example loads with `ors catalog load`, the
documented format block is a valid catalogue, and the README points at them (not at documents
outside the repository)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway.booking.catalogue.load import CatalogError, read_catalog
from gateway.settings import REPO_CONFIG
from tests.cli.in_process import in_process

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "catalogue.md"
EXAMPLE = ROOT / "examples" / "hospitals.yaml"


def test_the_example_loads_and_its_slots_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(tmp_path / "data")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    run = in_process(config, tmp_path, monkeypatch, capsys)
    assert run("migrate").returncode == 0
    loaded = run("catalog", "load", str(EXAMPLE))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (
        "loaded 1 cities, 1 hospitals, 2 departments, 1 doctors, 5 weekly sessions"
    )
    assert loaded.stderr == ""  # every name is GSM-7 already: no transliteration warning
    assert run("slots", "generate", "--days", "15").returncode == 0
    shown = run("catalog", "show").stdout
    assert "KNH  Kenyatta National Hospital" in shown and "doctor D001" in shown


def test_the_documented_format_is_a_valid_catalogue(tmp_path: Path) -> None:
    (block,) = re.findall(r"## Format\n\n```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    path = tmp_path / "format.yaml"
    path.write_text(block, encoding="utf-8")
    (city,) = read_catalog(path)
    (department,) = city.hospitals[0].departments
    assert department.room == "Block B, Room 12" and department.doctors == {
        "D001": "Dr. Achieng Otieno"
    }


SCHEDULE = "{days: [mon], start: '08:00', end: '12:00', slot_minutes: 30, places: 4}"
ONE = """cities:
  - code: NBO
    name: Nairobi
    hospitals:
      - code: KNH
        name: Kenyatta National Hospital
        timezone: Africa/Nairobi
        departments:
          - code: CARD
            name: Cardiology Clinic
            doctors: [{code: D001, name: Dr. Otieno}]
            schedules: [SCHEDULE]
""".replace("SCHEDULE", SCHEDULE)
DEPT = "cities[0].hospitals[0].departments[0]"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("cities:", "towns:", "cities: missing (expected a list of cities)"),
        ("code: NBO", "code: 12", "cities[0].code: must be text; quote it (12 was read as int)"),
        (
            "code: KNH",
            "code: knh",
            "cities[0].hospitals[0].code: 'knh': use 1-16 upper-case letters and digits",
        ),
        (
            "Africa/Nairobi",
            "Nairobi",
            "cities[0].hospitals[0].timezone: 'Nairobi' is not an IANA time zone (e.g. Africa/Nairobi)",
        ),
        (
            "      - code: KNH",
            "      - 5\n      - code: KNH",
            "cities[0].hospitals[0]: expected a mapping",
        ),
        ("code: CARD", "cold: CARD", f"{DEPT}.code: missing"),
        (
            "[mon]",
            "[mon, funday]",
            f"{DEPT}.schedules[0].days: expected a list of mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            "start: '08:00'",
            "start: 8:00",
            f'{DEPT}.schedules[0].start: expected a quoted time "HH:MM" (24:00 allowed as an end), got 480',
        ),
        ("end: '12:00'", "end: '07:00'", f"{DEPT}.schedules[0].end: must be after start"),
        (
            "places: 4",
            "places: 0",
            f"{DEPT}.schedules[0].places: expected a whole number above 0, got 0",
        ),
        (
            "places: 4",
            "places: 4, remote_share: 2",
            f"{DEPT}.schedules[0].remote_share: expected a number between 0 and 1",
        ),
        (
            "places: 4",
            "places: 4, doctor: D009",
            f"{DEPT}.schedules[0].doctor: 'D009' is not a doctor of this department",
        ),
    ],
)
def test_documented_messages_are_the_loaders(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in ONE
    path = tmp_path / "broken.yaml"
    path.write_text(ONE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        read_catalog(path)
    assert caught.value.problems == [message]
    # The doc's table shows it, a schedule's path shortened to "….schedules[0]".
    shown = message.replace(f"{DEPT}.schedules", "….schedules")
    assert f"`{shown}`" in DOC.read_text(encoding="utf-8")


def test_the_readme_links_the_catalogue_format_and_no_outside_document() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/catalogue.md)" in readme and "](examples/hospitals.yaml)" in readme
    linked = re.findall(r"\]\(([^)#:]+)\)", readme)  # relative links
    assert linked and all((ROOT / target).exists() for target in linked), linked
    assert "../shared" not in readme
