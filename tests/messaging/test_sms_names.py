"""SMS name hospitals by their short names and departments in the recipient's language, never
by a code citizens were not told (docs/catalogue.md, "Names in the citizen's language"); the
voucher stays one segment with the longest names allowed, in every language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.booking.domain.names import SMS_NAME_MAX
from gateway.messaging.compose import Appointment, render
from gateway.messaging.segments import count_segments
from gateway.messaging.texts import load_texts
from gateway.runtime import Runtime
from menus.gsm7 import is_gsm7_basic
from tcode.codes import group
from tests.booking.conftest import slot_id
from tests.conftest import TEST_CATALOG
from tests.messaging.conftest import A, B, MakeRuntime
from tests.messaging.sms_phone import Texter, deliver, sent_to

TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
NAIROBI = ZoneInfo("Africa/Nairobi")
TEXTS = load_texts()


def with_names(tmp_path: Path, hospital: str, department: str) -> Path:
    """The test catalogue with Kenyatta National Hospital and its Cardiology translated: the
    same codes, so the loaded slots stay."""
    text = TEST_CATALOG.read_text(encoding="utf-8")
    text = text.replace(
        "        name: Kenyatta National Hospital\n",
        "        name: Kenyatta National Hospital\n"
        "        names: {sw: Hospitali ya Taifa ya Kenyatta}\n" + hospital,
        1,
    )
    text = text.replace(
        "            name: Cardiology\n",
        "            name: Cardiology\n" + department,
        1,
    )
    path = tmp_path / "named.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rt(make_runtime: MakeRuntime, tmp_path: Path) -> Runtime:
    rt = make_runtime()
    rt.booking.load_catalog(
        with_names(
            tmp_path,
            "        sms_name: Kenyatta NH\n        sms_names: {sw: Kenyatta}\n",
            "            names: {sw: Magonjwa ya Moyo}\n",
        )
    )
    return rt


def test_each_phone_reads_the_hospitals_short_name_and_the_department_in_its_language(
    rt: Runtime,
) -> None:
    rt.booking.set_language(B, "sw")
    english = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    swahili = rt.booking.book(B, slot_id(rt, "CARD", datetime(2026, 11, 24, 9, 30)), "ussd")
    deliver(rt)
    (en,) = sent_to(rt, A, "voucher")
    (sw,) = sent_to(rt, B, "voucher")
    assert en.body.startswith(
        f"Kenyatta NH Cardiology Tue 24 Nov 09:00. T-code {group(english.tcode)}."
    )
    assert sw.body.startswith(
        f"Kenyatta Magonjwa ya Moyo Jumanne 24 Nov 09:30. T-code {group(swahili.tcode)}."
    )
    assert "KNH" not in en.body + sw.body


def test_without_a_short_name_an_sms_shortens_the_catalogues_name(
    make_runtime: MakeRuntime, tmp_path: Path
) -> None:
    rt = make_runtime()
    rt.booking.load_catalog(with_names(tmp_path, "", ""))
    rt.booking.set_language(A, "sw")
    rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    deliver(rt)
    (sms,) = sent_to(rt, A, "voucher")
    # Not "Hospitali": the Swahili name leads with the generic word; not the code either.
    assert sms.body.startswith("Kenyatta Cardiology Jumanne 24 Nov 09:00.")


def test_status_names_them_in_the_language_of_the_keyword(texter: Texter, tmp_path: Path) -> None:
    rt = texter.rt
    rt.booking.load_catalog(
        with_names(tmp_path, "        sms_name: Kenyatta\n", "            names: {sw: Moyo}\n")
    )
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    assert texter.send(A, "HALI").startswith(
        f"Miadi yako: Kenyatta Moyo Jumanne 24 Nov 09:00 T-code {group(booked.tcode)}"
    )
    assert texter.send(A, "STATUS").startswith("Your appointments: Kenyatta Cardiology Tue")


# --- one segment with the longest names --------------------------------------------------------

# The longest SMS names a hospital may have: words, and one word (never cut).
HOSPITALS = ("Coast General", "W" * SMS_NAME_MAX)
# The longest department name (160 characters), in words: it gives way, word by word.
DEPARTMENT = ("Magonjwa ya Moyo na Mishipa ya Damu " * 5)[:160].strip()
PERSON = "Wanjiku-Nyambura-Ann"  # the longest first name a dependant may have (20)
TCODE, REF = "4829135575", "Ab3dE9xQk2M"
WHEN = datetime(2026, 11, 25, 16, 30, tzinfo=NAIROBI)  # Wednesday: "Jumatano"
BASE_URLS = ("https://ors.example", "http://127.0.0.1:5000", "https://ors.health.go.ke")


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize("base", BASE_URLS)
@pytest.mark.parametrize("person", [None, PERSON], ids=["holder", "dependant"])
@pytest.mark.parametrize("sensitive", [False, True], ids=["named", "sensitive"])
def test_the_voucher_is_one_segment_with_the_longest_names(
    language: str, base: str, person: str | None, sensitive: bool
) -> None:
    assert len(DEPARTMENT) == 160
    for hospital in HOSPITALS:
        appointment = Appointment(hospital, DEPARTMENT, sensitive, WHEN, TCODE, person)
        link = f"{base}/v/{REF}"
        body = render(TEXTS[language], "voucher", appointment, link=link)
        assert count_segments(body) == 1 and is_gsm7_basic(body), body
        for whole in (hospital, group(TCODE), link, f"CANCEL {TCODE}", person or ""):
            assert whole in body, f"{whole!r} cut from {body!r}"
