"""Every template × language is GSM-7 basic and within its segment budget, with the demo
catalogue's longest names (hospitals by their SMS names, departments in every language); the voucher keeps its T-code and link whole. A dependant's texts
(`<name>_for`) name them, with the longest first name, and the voucher stays one segment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from gateway.booking.catalogue.load import DEMO_CATALOG
from gateway.booking.domain.names import default_sms_name
from gateway.gsm7 import to_gsm7
from gateway.messaging.compose import Appointment, render, shorten
from gateway.messaging.segments import count_segments
from gateway.messaging.texts import PERSON_VARIANT, TextsError, load_texts
from gateway.settings import load_settings
from menus.gsm7 import is_gsm7_basic
from tcode.codes import group
from tests.conftest import TEST_CATALOG

NAIROBI = ZoneInfo("Africa/Nairobi")
TEXTS = load_texts()
TCODE, REF = "4829135575", "Ab3dE9xQk2M"
# The longest weekday in either language, a two-digit day, the longest public URL we expect.
WHEN = datetime(2026, 11, 25, 16, 30, tzinfo=NAIROBI)  # Wednesday: "Jumatano"
BASE_URLS = ("https://ors.example", "http://127.0.0.1:5000", "https://ors.health.go.ke")
STAFF_REASON = (
    "The consultant is away at a national conference this week and every clinic of the "
    "department moves; please book another day or ask at the reception desk. Sorry!"
)


def demo_departments(path: Path = DEMO_CATALOG) -> list[tuple[str, str, bool]]:
    """(hospital's SMS name, department name as loaded, sensitive) for every department of a
    catalogue (the demo's unless told), once per language it is named in."""
    catalog = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [
        (h.get("sms_name") or default_sms_name(to_gsm7(h["name"])), to_gsm7(name), sensitive)
        for city in catalog["cities"]
        for h in city["hospitals"]
        for d in h["departments"]
        for name in (d["name"], *d.get("names", {}).values())
        for sensitive in (bool(d.get("sensitive", False)),)
    ]


DEPARTMENTS = demo_departments()
# The longest named ones (a sensitive department's voucher names no department: see below).
LONGEST = sorted((d for d in DEPARTMENTS if not d[2]), key=lambda d: -len(d[0]) - len(d[1]))[:8]
SENSITIVE = [d for d in DEPARTMENTS if d[2]]
# A dependant's first name as long as a name may be: it is never cut.
NAME_MAX = load_settings(env={}).booking.persons.name_max_length
LONGEST_NAME = "Wanjiku-Nyambura-Ann"
assert len(LONGEST_NAME) == NAME_MAX


def appointment(
    hospital: str, department: str, sensitive: bool, person: str | None = None
) -> Appointment:
    return Appointment(hospital, department, sensitive, WHEN, TCODE, person)


# The longest values the other placeholders take: a status list of two long bookings, a
# typed code with extra digits, a deadline and window days in the longest words.
EXTRA = {
    "number": "+254711082000",
    "minutes": 5,
    "first": "Jumatano 25 Nov",
    "last": "Jumamosi 28 Nov",
    "expires": "Jumamosi 28 Nov 23:59",
    "deadline": "Jumatano 25 Nov 14:30",
    "typed": "4829135575123456",
    "items": "; ".join(
        ["Coast General Medical Outpatient Jumatano 25 Nov 16:30 T-code 482 913 5575"] * 2
    ),
    "digits": "4821",
    "until": "Jumatano 25 Nov 14:30",
    "limit": 2,
    "body_days": 9999,  # the retention settings HELP names
    "idle_days": 9999,
    # MOVE: the person, the new phone's last digits, every name of a full household, tries
    "who": LONGEST_NAME,
    "last3": "575",
    "names": ", ".join([LONGEST_NAME] * 5),
    "left": 2,
    "tries": 3,
    # A block: strikes, the last day before the oldest leaves the window, the block's days
    "strikes": 99,
    "before": "Jumatano 25 Nov",
    "days": 365,
}


def body_of(language: str, name: str, appt: Appointment, base: str) -> str:
    """The text of `name` at its longest; a dependant's variant names the longest name."""
    if name.endswith(PERSON_VARIANT):
        appt = replace(appt, person=LONGEST_NAME)
    return render(
        TEXTS[language],
        name,
        appt,
        link=f"{base}/v/{REF}",
        shortcode="*384*123#",
        reason=STAFF_REASON,
        **EXTRA,
    )


def uses(name: str, field: str) -> bool:
    """True when template `name` shows `field` (in its text or its place)."""
    template = TEXTS["en"].template(name)
    return any(
        "{" + field + "}" in part for part in (template.text, template.place, template.place_hidden)
    )


def test_the_english_voucher_reads_as_designed() -> None:
    appt = Appointment(
        "Kenyatta", "Cardiology", False, datetime(2026, 11, 24, 9, 30, tzinfo=NAIROBI), TCODE
    )
    body = render(TEXTS["en"], "voucher", appt, link=f"https://ors.example/v/{REF}")
    assert body == (
        "Kenyatta Cardiology Tue 24 Nov 09:30. T-code 482 913 5575. Show at kiosk: "
        "https://ors.example/v/Ab3dE9xQk2M. Reply CANCEL 4829135575 to cancel"
    )


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize("name", sorted(TEXTS["en"].templates))
def test_every_text_is_gsm7_and_within_its_budget(name: str, language: str) -> None:
    # Every demo department × base URL in one test per template and language, naming each
    # failing combination, rather than thousands of near-identical test ids.
    failures = []
    for base in BASE_URLS:
        for department in DEPARTMENTS:
            body = body_of(language, name, appointment(*department), base)
            problems = [
                "not GSM-7 basic" if not is_gsm7_basic(body) else "",
                "over budget"
                if count_segments(body) > TEXTS[language].template(name).segments
                else "",
                "T-code missing" if uses(name, "tcode") and "482 913 5575" not in body else "",
                "stray brace or double space" if "{" in body or "  " in body else "",
            ]
            failures += [f"{department[:2]} {base}: {p}: {body!r}" for p in problems if p]
    assert failures == []


@pytest.mark.parametrize("base", BASE_URLS)
@pytest.mark.parametrize("department", LONGEST, ids=lambda d: f"{d[0]}-{d[1][:12]}")
def test_the_english_voucher_is_one_segment_and_keeps_code_link_and_hospital(
    base: str, department: tuple[str, str, bool]
) -> None:
    body = body_of("en", "voucher", appointment(*department), base)
    assert len(body) <= 160
    assert f"{base}/v/{REF}" in body and f"CANCEL {TCODE}" in body
    assert body.startswith(department[0] + " ")


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize("name", sorted(TEXTS["en"].templates))
@pytest.mark.parametrize("department", SENSITIVE, ids=lambda d: d[1])
def test_a_sensitive_department_is_never_named(
    name: str, language: str, department: tuple[str, str, bool]
) -> None:
    hospital, dept, _ = department
    body = body_of(language, name, appointment(hospital, dept, True), BASE_URLS[0])
    for word in ("HIV", "Comprehensive", "Care", dept):
        assert word not in body
    assert hospital in body or not uses(name, "hospital")


def test_the_voucher_of_a_dependant_names_her_first() -> None:
    appt = Appointment(
        "Kenyatta",
        "Paediatrics",
        False,
        datetime(2026, 12, 8, 10, 0, tzinfo=NAIROBI),
        TCODE,
        "Amina",
    )
    link = f"https://ors.example/v/{REF}"
    assert render(TEXTS["en"], "voucher", appt, link=link) == (
        "T-code 482 913 5575 for Amina, Kenyatta Paediatrics Tue 8 Dec 10:00. Kiosk: "
        "https://ors.example/v/Ab3dE9xQk2M. Reply CANCEL 4829135575 to cancel"
    )
    assert render(TEXTS["sw"], "voucher", appt, link=link) == (
        "T-code 482 913 5575 ya Amina, Kenyatta Paediatrics Jumanne 8 Des 10:00. Kiosk: "
        "https://ors.example/v/Ab3dE9xQk2M. Jibu CANCEL 4829135575 kughairi"
    )


# Every department of the demo and test catalogues: the longest hospital and department names.
EVERY_DEPARTMENT = sorted({*DEPARTMENTS, *demo_departments(TEST_CATALOG)})


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize("base", BASE_URLS)
def test_a_dependants_voucher_is_one_segment_and_never_cuts_name_code_or_link(
    language: str, base: str
) -> None:
    failures = []
    for hospital, department, sensitive in EVERY_DEPARTMENT:
        appt = appointment(hospital, department, sensitive, LONGEST_NAME)
        body = render(TEXTS[language], "voucher", appt, link=f"{base}/v/{REF}")
        problems = [
            "over one segment" if count_segments(body) > 1 or not is_gsm7_basic(body) else "",
            "name cut" if f" {LONGEST_NAME}, {hospital} " not in body else "",
            "T-code cut" if not body.startswith(f"T-code {group(TCODE)} ") else "",
            "link cut" if f" {base}/v/{REF}. " not in body else "",
            "reply code cut" if f"CANCEL {TCODE} " not in body else "",
            "sensitive department named" if sensitive and department in body else "",
        ]
        failures += [f"{hospital} {department}: {p}: {body!r}" for p in problems if p]
    assert failures == []


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize(
    "name",
    [n for n in sorted(TEXTS["en"].templates) if n + PERSON_VARIANT in TEXTS["en"].templates],
)
def test_every_text_about_a_booking_names_a_dependant_and_not_the_holder(
    name: str, language: str
) -> None:
    holder = body_of(language, name, appointment("KNH", "Cardiology", False), BASE_URLS[0])
    dependant = body_of(
        language, name, appointment("KNH", "Cardiology", False, "Amina"), BASE_URLS[0]
    )
    assert "Amina" in dependant and "Amina" not in holder
    assert dependant != holder


SHORTENED = [
    # (name, room, expected): cut at a word boundary, then tidied
    ("Cardiology", 20, "Cardiology"),
    ("Obstetrics and Gynaecology", 20, "Obstetrics"),
    ("Ophthalmology (Eye Clinic)", 22, "Ophthalmology"),
    ("Ear, Nose and Throat (ENT) Clinic", 16, "Ear, Nose"),
    ("Ear, Nose and Throat (ENT) Clinic", 26, "Ear, Nose and Throat (ENT)"),
    ("Chest Clinic (Respiratory Medicine)", 30, "Chest Clinic"),
    ("Paediatrics - Neonatal Unit", 14, "Paediatrics"),
    ("Nutrition and Dietetics", 13, "Nutrition"),
    ("Cardiology", 9, ""),  # no word fits: the hospital code stands alone
    ("Plastic and Reconstructive Surgery", 2, ""),
]


@pytest.mark.parametrize(("name", "room", "expected"), SHORTENED)
def test_names_are_shortened_at_word_boundaries(name: str, room: int, expected: str) -> None:
    assert shorten(name, room, TEXTS["en"].dangling) == expected


def test_when_nothing_of_the_department_fits_the_hospital_name_stands_alone() -> None:
    long_base = "https://hospital-bookings.health.go.ke.example"
    appt = appointment("Jaramogi", "Medical Outpatient Clinic", False)
    body = render(TEXTS["en"], "voucher", appt, link=f"{long_base}/v/{REF}")
    assert body.startswith("Jaramogi Wed 25 Nov 16:30. T-code 482 913 5575.")
    assert len(body) <= 160


def test_the_code_and_the_link_are_never_cut_even_past_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    long_base = "https://appointments.ministry-of-health.example.go.ke"
    appt = appointment("Jaramogi", "Medical Outpatient Clinic", False)
    body = render(TEXTS["en"], "voucher", appt, link=f"{long_base}/v/{REF}")
    assert f"{long_base}/v/{REF}" in body and "482 913 5575" in body
    assert count_segments(body) == 2
    assert "over its budget" in caplog.text


def test_the_staff_reason_gives_way_before_the_department() -> None:
    appt = appointment("KNH", "Cardiology", False)
    body = body_of("en", "cancelled_by_staff", appt, BASE_URLS[0])
    assert "your Cardiology appointment" in body and "Reason: The consultant" in body
    assert count_segments(body) <= 2
    assert not body.endswith("..")


def test_a_cancellation_without_a_reason_says_none() -> None:
    appt = appointment("KNH", "Cardiology", False)
    body = render(TEXTS["en"], "cancelled_by_staff", appt, shortcode="*384*123#")
    assert "Reason" not in body


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('text: "Say “hi” {place}"', "outside GSM-7"),
        ('text: "{place} {when} {tcode} {oops}"', "placeholders"),
    ],
)
def test_a_bad_template_file_is_refused_naming_it(tmp_path: Path, text: str, error: str) -> None:
    source = (Path(__file__).parents[2] / "gateway/messaging/templates/en.yaml").read_text()
    (tmp_path / "en.yaml").write_text(source)
    bad = source.replace(
        'text: "{place} {when}. T-code {tcode}. Show at kiosk: {link}. Reply CANCEL {code} to cancel"',
        text,
    )
    assert bad != source
    (tmp_path / "xx.yaml").write_text(bad)
    with pytest.raises(TextsError, match=error):
        load_texts(tmp_path)


def test_a_dependants_text_that_does_not_name_them_is_refused(tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "gateway/messaging/templates"
    for language in ("en", "sw"):
        text = (source / f"{language}.yaml").read_text()
        bad = text.replace("{tcode} for {person},", "{tcode},").replace(
            "{tcode} ya {person},", "{tcode},"
        )
        assert bad != text
        (tmp_path / f"{language}.yaml").write_text(bad)
    with pytest.raises(TextsError, match=r"voucher_for.text must show \{person\}"):
        load_texts(tmp_path)
