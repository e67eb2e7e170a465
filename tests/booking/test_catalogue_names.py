"""Names in the citizen's language (docs/catalogue.md): `names`, `sms_name` and `sms_names` are
validated at their path, stored GSM-7 as well as written, replaced by each load, and read back
in a language with the catalogue's name as the fallback; an SMS never names a hospital by its
code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.booking.catalogue.load import CatalogError, read_catalog
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.names import SMS_NAME_MAX, default_sms_name, sms_name
from gateway.booking.models import Department, Hospital
from gateway.menus_port import BookingMenusPort
from gateway.runtime import Runtime

LANGUAGES = ("en", "sw")
HOSPITAL = "cities[0].hospitals[0]"
DEPT = f"{HOSPITAL}.departments[0]"
ONE = """cities:
  - code: NBO
    name: Nairobi
    hospitals:
      - code: KNH
        name: Kenyatta National Hospital
        names: {sw: Hospitali ya Taifa ya Kenyatta}
        sms_name: Kenyatta
        timezone: Africa/Nairobi
        departments:
          - code: CARD
            name: Cardiology
            names: {sw: Magonjwa ya Moyo}
            schedules: [{days: [mon], start: '08:00', end: '12:00', slot_minutes: 30, places: 4}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hospitals.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "names: {sw: Magonjwa ya Moyo}",
            "names: Magonjwa ya Moyo",
            f"{DEPT}.names: expected a mapping of languages to names, e.g. {{sw: ...}}",
        ),
        (
            "names: {sw: Magonjwa ya Moyo}",
            "names: {fr: Cardiologie}",
            f"{DEPT}.names.fr: 'fr' is not one of the languages (en, sw)",
        ),
        (
            "names: {sw: Magonjwa ya Moyo}",
            "names: {Swahili: Magonjwa ya Moyo}",
            f"{DEPT}.names.Swahili: expected a language code such as sw",
        ),
        ("{sw: Magonjwa ya Moyo}", "{sw: 12}", f"{DEPT}.names.sw: expected text"),
        ("{sw: Magonjwa ya Moyo}", "{sw: ''}", f"{DEPT}.names.sw: expected text"),
        (
            "{sw: Magonjwa ya Moyo}",
            "{sw: " + "Moyo " * 33 + "}",
            f"{DEPT}.names.sw: longer than 160 characters",
        ),
        (
            "name: Nairobi",
            "name: Nairobi\n    names: {sw: " + "N" * 121 + "}",
            "cities[0].names.sw: longer than 120 characters",
        ),
        (
            "sms_name: Kenyatta",
            "sms_name: Kenyatta National",
            f"{HOSPITAL}.sms_name: longer than {SMS_NAME_MAX} characters",
        ),
        # Transliteration can lengthen a name: the form an SMS sends must fit too.
        (
            "sms_name: Kenyatta",
            "sms_name: Kenyatta €€",
            f"{HOSPITAL}.sms_name: longer than 13 characters",
        ),
        ("sms_name: Kenyatta", "sms_name: 42", f"{HOSPITAL}.sms_name: expected text"),
        (
            "sms_name: Kenyatta",
            "sms_names: {sw: Hospitali Kenyatta}",
            f"{HOSPITAL}.sms_names.sw: longer than 13 characters",
        ),
    ],
)
def test_a_bad_name_is_reported_at_its_path(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    assert old in ONE
    with pytest.raises(CatalogError) as caught:
        read_catalog(write(tmp_path, ONE.replace(old, new, 1)), LANGUAGES)
    assert caught.value.problems == [problem]


def test_names_are_optional_and_read_as_given(tmp_path: Path) -> None:
    (city,) = read_catalog(write(tmp_path, ONE), LANGUAGES)
    (hospital,) = city.hospitals
    assert city.names == {}
    assert hospital.names == {"sw": "Hospitali ya Taifa ya Kenyatta"}
    assert (hospital.sms_name, hospital.sms_names) == ("Kenyatta", {})
    assert hospital.departments[0].names == {"sw": "Magonjwa ya Moyo"}


def test_without_deployment_languages_any_language_code_is_accepted(tmp_path: Path) -> None:
    text = ONE.replace("{sw: Magonjwa ya Moyo}", "{fr: Cardiologie}")
    (city,) = read_catalog(write(tmp_path, text))
    assert city.hospitals[0].departments[0].names == {"fr": "Cardiologie"}


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Mbagathi", "Mbagathi"),
        ("Kenyatta National Hospital", "Kenyatta"),
        ("Mama Lucy Kibaki Hospital", "Mama Lucy"),
        ("Coast General Teaching and Referral Hospital", "Coast General"),
        ("Jaramogi Oginga Odinga Teaching and Referral Hospital", "Jaramogi"),
        ("Moi Teaching and Referral Hospital", "Moi Teaching"),  # never ends on "and"
        ("Pumwani Maternity Hospital", "Pumwani"),
        ("St. Mary's, Langata", "St. Mary's"),  # no trailing comma
        ("Wanjiku-Nyambura-Memorial Hospital", "Wanjiku-Nyamb"),  # a first word too long: cut
    ],
)
def test_the_default_sms_name_is_the_name_cut_after_whole_words(name: str, short: str) -> None:
    assert default_sms_name(name) == short
    assert len(short) <= SMS_NAME_MAX


@pytest.mark.parametrize(
    ("short", "shorts", "language", "expected"),
    [
        ("KNH Kenyatta", {"sw": "Kenyatta"}, "sw", "Kenyatta"),  # the language's own first
        ("KNH Kenyatta", {"sw": "Kenyatta"}, "en", "KNH Kenyatta"),  # then the short name
        (None, {"sw": "Kenyatta"}, "en", "Kenyatta"),  # then the name shortened
        (None, None, "sw", "Kenyatta"),  # a translation is never shortened ("Hospitali ya")
        (None, None, None, "Kenyatta"),
    ],
)
def test_an_sms_names_a_hospital_by_its_short_name_in_the_language(
    short: str | None, shorts: dict[str, str] | None, language: str | None, expected: str
) -> None:
    assert sms_name("Kenyatta National Hospital", short, shorts, language) == expected


def test_loading_stores_names_as_written_and_for_phones_and_a_reload_replaces_them(
    runtime: Runtime, tmp_path: Path
) -> None:
    text = ONE.replace("Magonjwa ya Moyo", "Magonjwa ya Moyo – Kliniki")
    report = runtime.booking.load_catalog(write(tmp_path, text))
    assert report.warnings == [
        "departments CARD: 'Magonjwa ya Moyo – Kliniki' is sent as 'Magonjwa ya Moyo - Kliniki'"
    ]
    info = _cardiology(runtime)
    assert info.name_in("sw") == "Magonjwa ya Moyo - Kliniki"
    assert info.name_in("en") == info.name_in(None) == "Cardiology"
    assert info.hospital_name_in("sw") == "Hospitali ya Taifa ya Kenyatta"
    assert info.sms_name_in("sw") == info.sms_name_in("en") == "Kenyatta"
    with runtime.booking.writer() as s:
        dept = s.scalars(select(Department).where(Department.code == "CARD")).one()
        assert dept.names == {"sw": "Magonjwa ya Moyo – Kliniki"}

    # Left out of the next file, translations and the short name are gone.
    plain = "\n".join(
        line for line in ONE.splitlines() if not re.search(r"\b(names|sms_name|sms_names):", line)
    )
    runtime.booking.load_catalog(write(tmp_path, plain))
    info = _cardiology(runtime)
    assert (info.name_in("sw"), info.hospital_name_in("sw")) == (
        "Cardiology",
        "Kenyatta National Hospital",
    )
    assert info.sms_name_in("sw") == "Kenyatta"  # the name shortened
    with runtime.booking.writer() as s:
        knh = s.scalars(select(Hospital).where(Hospital.code == "KNH")).one()
        assert (knh.names, knh.names_gsm, knh.sms_name, knh.sms_names) == (None, None, None, None)


def test_menus_choices_are_translated_and_listed_by_the_name_read(
    runtime: Runtime, tmp_path: Path
) -> None:
    text = ONE.replace(
        "            schedules: [",
        "            schedules: []\n          - code: ENT\n            name: Ear, Nose and Throat\n"
        "            names: {sw: 'Masikio, Pua na Koo'}\n            schedules: [",
    )
    runtime.booking.load_catalog(write(tmp_path, text))
    port = BookingMenusPort(runtime.booking, "ussd")
    (city,) = port.cities()
    (hospital,) = port.hospitals(city.id)
    english, swahili = port.departments(hospital.id), port.speaking("sw").departments(hospital.id)
    assert [c.label for c in english] == ["Cardiology", "Ear, Nose and Throat"]
    assert [c.label for c in swahili] == ["Magonjwa ya Moyo", "Masikio, Pua na Koo"]
    assert {c.id for c in english} == {c.id for c in swahili}  # the same entries, other words
    assert port.speaking("sw").hospitals(city.id)[0].label == "Hospitali ya Taifa ya Kenyatta"


def _cardiology(runtime: Runtime) -> DepartmentInfo:
    runtime.booking.catalogue.invalidate()
    catalogue = runtime.booking.catalogue.get()
    return next(d for d in catalogue.by_id.values() if d.code == "CARD")
