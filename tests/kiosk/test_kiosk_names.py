"""The kiosk's ticket names the hospital and department in the language the kiosk speaks (as
the catalogue translates them, else by its names); a sensitive department stays unnamed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import TEST_CATALOG
from tests.kiosk.conftest import KioskClient

SWAHILI = {"hospital": "Hospitali ya Taifa ya Kenyatta", "department": "Magonjwa ya Moyo"}
ENGLISH = {"hospital": "Kenyatta National Hospital", "department": "Cardiology"}


@pytest.fixture
def named(kiosk: KioskClient, tmp_path: Path) -> KioskClient:
    text = (
        TEST_CATALOG.read_text(encoding="utf-8")
        .replace(
            "        name: Kenyatta National Hospital\n",
            f"        name: Kenyatta National Hospital\n        names: {{sw: {SWAHILI['hospital']}}}\n",
            1,
        )
        .replace(
            "            name: Cardiology\n",
            f"            name: Cardiology\n            names: {{sw: {SWAHILI['department']}}}\n",
            1,
        )
        .replace(
            "            name: HIV Comprehensive Care Clinic\n",
            "            name: HIV Comprehensive Care Clinic\n            names: {sw: Huduma ya VVU}\n",
            1,
        )
    )
    path = tmp_path / "named.yaml"
    path.write_text(text, encoding="utf-8")
    kiosk.rt.booking.load_catalog(path)
    return kiosk


@pytest.mark.parametrize(("language", "names"), [("sw", SWAHILI), ("en", ENGLISH)])
def test_the_ticket_names_the_place_in_the_kiosks_language(
    named: KioskClient, language: str, names: dict[str, str]
) -> None:
    booked = named.book()
    named.at(2026, 11, 23, 7, 15)
    answer = named.post(f"checkin?lang={language}", booked.tcode)
    assert answer.status_code == 200
    ticket = answer.get_json()["ticket"]
    assert {key: ticket[key] for key in names} == names


def test_a_sensitive_departments_translation_is_never_shown(named: KioskClient) -> None:
    booked = named.book("CCC", datetime(2026, 11, 23, 9, 0))
    named.at(2026, 11, 23, 8, 30)
    answer = named.post("checkin?lang=sw", booked.tcode)
    ticket = answer.get_json()["ticket"]
    assert ticket["department"] is None and ticket["sensitive"] is True
    assert "VVU" not in answer.get_data(as_text=True)
