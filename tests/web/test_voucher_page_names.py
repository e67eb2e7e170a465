"""The voucher page names the hospital and department in the phone holder's language, as the
catalogue writes them (a web page shows any script), and by the catalogue's names otherwise."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.conftest import TEST_CATALOG

PHONE = "+254700000001"
SWAHILI = ("Hospitali ya Taifa ya Kenyatta", "Magonjwa ya Moyo – Kliniki")
ENGLISH = ("Kenyatta National Hospital", "Cardiology")


@pytest.fixture
def client(catalog: Runtime, tmp_path: Path) -> FlaskClient:
    text = TEST_CATALOG.read_text(encoding="utf-8")
    text = text.replace(
        "        name: Kenyatta National Hospital\n",
        f"        name: Kenyatta National Hospital\n        names: {{sw: {SWAHILI[0]}}}\n",
        1,
    ).replace(
        "            name: Cardiology\n",
        f'            name: Cardiology\n            names: {{sw: "{SWAHILI[1]}"}}\n',
        1,
    )
    named = tmp_path / "named.yaml"
    named.write_text(text, encoding="utf-8")
    catalog.booking.load_catalog(named)
    return create_app(runtime=catalog).test_client()


@pytest.mark.parametrize(
    ("language", "names", "other"), [("sw", SWAHILI, ENGLISH), ("en", ENGLISH, SWAHILI)]
)
def test_the_page_names_the_place_in_the_holders_language(
    client: FlaskClient,
    catalog: Runtime,
    language: str,
    names: tuple[str, str],
    other: tuple[str, str],
) -> None:
    catalog.booking.set_language(PHONE, language)
    booked = catalog.booking.book(
        PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 9)), "ussd"
    )
    html = client.get(f"/v/{booked.voucher_ref}").get_data(as_text=True)
    assert all(name in html for name in names), html
    assert not any(name in html for name in other)
