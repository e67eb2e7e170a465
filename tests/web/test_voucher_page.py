"""The voucher page and its QR: statuses, sensitive departments, caching headers, 404s; whose
appointment it is (a dependant, a person without a phone), in the phone holder's language."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
import zxingcpp
from flask.testing import FlaskClient
from PIL import Image

from gateway.app import create_app
from gateway.runtime import Runtime
from tcode.payload import GenuineVoucher, parse
from tests.booking.conftest import slot_id

PHONE = "+254700000001"


@pytest.fixture
def client(catalog: Runtime) -> FlaskClient:
    return create_app(runtime=catalog).test_client()


def book(rt: Runtime, dept: str = "CARD", hour: int = 9) -> tuple[str, str]:
    c = rt.booking.book(PHONE, slot_id(rt, dept, datetime(2026, 11, 23, hour, 0)), "ussd")
    return c.ref, c.voucher_ref


def test_page_shows_qr_tcode_and_appointment(client: FlaskClient, catalog: Runtime) -> None:
    _, vref = book(catalog)
    page = client.get(f"/v/{vref}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    tcode = catalog.booking.upcoming(PHONE)[0].tcode
    assert tcode is not None
    assert f"{tcode[:3]} {tcode[3:6]} {tcode[6:]}" in html
    assert (
        "Kenyatta National Hospital" in html
        and "Cardiology" in html
        and "Mon 23 Nov 2026, 09:00" in html
    )
    assert f'src="/v/{vref}.png"' in html
    assert "http://" not in html and "https://" not in html  # no external resources


def test_png_decodes_to_a_genuine_voucher(client: FlaskClient, catalog: Runtime) -> None:
    _, vref = book(catalog)
    first = client.get(f"/v/{vref}.png")
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.headers["Cache-Control"] == "no-store"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(first.data)))
    result = parse(decoded[0].text, catalog.keys.keyring)
    assert isinstance(result, GenuineVoucher)
    assert (result.tcode, result.hospital, result.day.isoformat()) == (
        catalog.booking.upcoming(PHONE)[0].tcode,
        "KNH",
        "2026-11-23",
    )
    assert client.get(f"/v/{vref}.png").data == first.data  # served from the cache


def test_cancelled_voucher_is_gone_and_shows_no_qr(client: FlaskClient, catalog: Runtime) -> None:
    # Issue #16: a cancelled appointment's link answers 410 and names nothing of it.
    ref, vref = book(catalog)
    catalog.booking.cancel(ref, by="citizen", phone=PHONE)
    page = client.get(f"/v/{vref}")
    html = page.get_data(as_text=True)
    assert page.status_code == 410 and "Cardiology" not in html and ".png" not in html
    assert client.get(f"/v/{vref}.png").status_code == 410


def test_sensitive_department_is_never_named(client: FlaskClient, catalog: Runtime) -> None:
    _, vref = book(catalog, "CCC", 9)
    html = client.get(f"/v/{vref}").get_data(as_text=True)
    assert "HIV" not in html and "Comprehensive" not in html and "Appointment" in html


@pytest.mark.parametrize("ref", ["AAAAAAAAAAA", "nope", "a" * 40, "..%2F..", "x.y"])
def test_unknown_refs_are_404_and_reveal_nothing(client: FlaskClient, ref: str) -> None:
    for url in (f"/v/{ref}", f"/v/{ref}.png"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Traceback" not in response.get_data(as_text=True)


def test_rebooked_voucher_is_gone_and_the_new_one_is_live(
    client: FlaskClient, catalog: Runtime
) -> None:
    ref, old_vref = book(catalog)
    moved = catalog.booking.rebook(
        ref, slot_id(catalog, "CARD", datetime(2026, 11, 24, 9, 0)), by="citizen", phone=PHONE
    )
    assert moved.ref == ref and moved.voucher_ref != old_vref
    # Issue #16: the replaced voucher's link answers 410 and names nothing of the appointment.
    old = client.get(f"/v/{old_vref}")
    assert old.status_code == 410 and "Mon 23 Nov" not in old.get_data(as_text=True)
    assert client.get(f"/v/{old_vref}.png").status_code == 410
    new = client.get(f"/v/{moved.voucher_ref}").get_data(as_text=True)
    assert "Tue 24 Nov 2026, 09:00" in new and f"/v/{moved.voucher_ref}.png" in new


# --- whose appointment, in whose language (issue #19) -------------------------------------------

NAMED = {"en": "Name: <strong>Amina</strong>", "sw": "Jina: <strong>Amina</strong>"}
TITLE = {"en": "Appointment voucher", "sw": "Tiketi ya miadi"}


@pytest.mark.parametrize("language", ["en", "sw"])
def test_a_dependants_voucher_names_her_in_the_holders_language(
    client: FlaskClient, catalog: Runtime, language: str
) -> None:
    bk = catalog.booking
    bk.set_language(PHONE, language)  # the holder's; a dependant has none of her own
    amina = bk.add_person(PHONE, "Amina", birth_year=2019)
    hers = bk.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 9, 0)), "ussd",
                   person_id=amina.id)  # fmt: skip
    mine = bk.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 24, 9, 0)), "ussd")
    html = client.get(f"/v/{hers.voucher_ref}").get_data(as_text=True)
    assert TITLE[language] in html and NAMED[language] in html
    own = client.get(f"/v/{mine.voucher_ref}").get_data(as_text=True)
    assert TITLE[language] in own and "Amina" not in own
    assert 'class="person"' not in own  # the holder ("Me") is never named, as in the SMS
    bk.cancel(hers.ref, by="citizen", phone=PHONE)
    gone = client.get(f"/v/{hers.voucher_ref}")
    assert gone.status_code == 410 and f'lang="{language}"' in gone.get_data(as_text=True)


def test_the_printed_voucher_of_a_person_without_a_phone_names_them(
    client: FlaskClient, catalog: Runtime
) -> None:
    bk = catalog.booking
    mzee = bk.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = bk.book_at_desk(mzee.id, slot_id(catalog, "CCC", datetime(2026, 11, 23, 9, 0)),
                             actor="desk-1")  # fmt: skip
    html = client.get(f"/v/{booked.voucher_ref}").get_data(as_text=True)
    assert "Name: <strong>Mzee</strong>" in html and "Juma" not in html  # the first name only
    assert "HIV" not in html and "Comprehensive" not in html  # never a sensitive department
