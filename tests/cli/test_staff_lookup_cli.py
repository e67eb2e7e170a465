"""A CLI staff can use (issue #18, item 6): `ors bookings find`, `ors catalog show`, refusals as
sentences that name the valid choices, and column headers."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.booking.domain import errors
from gateway.booking.domain.errors import BookingError
from gateway.cli.refusals import SENTENCES, sentence
from gateway.kiosks import KioskRevoked
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import use_id_hash_key
from tests.cli.desk import MOTHER, add, card, refusal
from tests.conftest import Ors

NAIROBI = ZoneInfo("Africa/Nairobi")
HEADER = ["REF", "PERSON", "HOSP", "DEPT", "DATE", "TIME", "STATUS", "CHANNEL", "VOUCHER"]
HOSPITALS = "KNH, MCH, STH"


def household(rt: Runtime, ors_cli: Ors) -> tuple[str, str, str]:
    """The holder's booking on Tuesday 08:00 and their dependant Amina's at 08:30: refs, T-code."""
    amina = add(ors_cli, "Amina")
    mine = rt.booking.book(MOTHER, card(rt, 24, 8), "ussd")
    hers = rt.booking.book(MOTHER, card(rt, 24, 8, 30), "sms", person_id=amina)
    assert mine.tcode is not None
    return mine.ref, hers.ref, mine.tcode


def rows(out: str) -> list[list[str]]:
    header, *lines = out.splitlines()
    assert header.split() == HEADER
    return [line.split() for line in lines]


@pytest.mark.parametrize(
    "key, whose",
    [
        ("--phone", "both"),  # every person of the phone
        ("--phone-local", "both"),  # typed as staff read it off a screen
        ("--tcode", "mine"),
        ("--tcode-typed", "mine"),  # grouped with spaces and a leading T
        ("--ref", "hers"),
    ],
)
def test_find_by_each_key(catalog: Runtime, ors_cli: Ors, key: str, whose: str) -> None:
    mine, hers, tcode = household(catalog, ors_cli)
    typed = {
        "--phone": ("--phone", MOTHER),
        "--phone-local": ("--phone", "0700 000401"),
        "--tcode": ("--tcode", tcode),
        "--tcode-typed": ("--tcode", f"T{group(tcode)}"),
        "--ref": ("--ref", hers),
    }[key]
    code, out, err = ors_cli("bookings", "find", *typed)
    assert (code, err) == (0, "")
    me = [mine, "-", "KNH", "CARD", "2026-11-24", "08:00", "confirmed", "ussd", "issued"]
    amina = [hers, "Amina", "KNH", "CARD", "2026-11-24", "08:30", "confirmed", "sms", "issued"]
    assert rows(out) == {"both": [me, amina], "mine": [me], "hers": [amina]}[whose]


def test_find_as_json_marks_utc_and_shows_no_national_id(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_id_hash_key(catalog)
    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    registered = ors_cli(
        "citizens", "register", "--phone", MOTHER, "--name", "Wanjiru Kamau", "--id-stdin"
    )
    assert registered[0] == 0, registered
    mine, hers, _ = household(catalog, ors_cli)
    code, out, _ = ors_cli("bookings", "find", "--phone", MOTHER, "--json")
    found = json.loads(out)
    assert code == 0 and [f["ref"] for f in found] == [mine, hers]
    assert found[1] == {
        "ref": hers,
        "person": "Amina",
        "hospital": "KNH",
        "department": "CARD",
        "starts_at": "2026-11-24T08:30:00+03:00",
        "starts_at_utc": "2026-11-24T05:30:00+00:00",
        "status": "confirmed",
        "channel": "sms",
        "voucher": "issued",
    }
    assert "12345678" not in out and "national" not in out


def test_find_tells_a_typo_from_nothing_found(catalog: Runtime, ors_cli: Ors) -> None:
    _, _, tcode = household(catalog, ors_cli)
    typo = tcode[:-1] + str((int(tcode[-1]) + 1) % 10)  # Damm catches every single-digit error
    code, out, err = ors_cli("bookings", "find", "--tcode", typo)
    assert code == 2 and out == "" and f"'{typo}' is not a T-code" in err and "typo" in err
    unknown = {"--ref": "NOSUCHREF", "--phone": "+254700000999"}
    for key, value in unknown.items():
        assert refusal(ors_cli("bookings", "find", key, value)) == (1, "Error: no booking found")
        assert ors_cli("bookings", "find", key, value, "--json") == (0, "[]\n", "")
    for args in ([], ["--ref", "A", "--phone", MOTHER]):
        code, _, err = ors_cli("bookings", "find", *args)
        assert code == 2 and "give one of --phone, --tcode or --ref" in err


def test_catalog_show_lists_every_code_with_its_name(catalog: Runtime, ors_cli: Ors) -> None:
    code, out, _ = ors_cli("catalog", "show")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "LON  London"
    for line in (
        "NBO  Nairobi",
        "  KNH  Kenyatta National Hospital  (in SMS: Kenyatta; times in Africa/Nairobi)",
        "    CARD  Cardiology",
        "      doctor D001  Dr. Achieng Otieno",
        "    CCC  HIV Comprehensive Care Clinic",
        "  STH  St Thomas' Hospital  (in SMS: St Thomas'; times in Europe/London)",
    ):
        assert line in lines, line
    code, out, _ = ors_cli("catalog", "show", "--hospital", "sth")
    assert code == 0 and out.splitlines()[:2] == [
        "LON  London",
        "  STH  St Thomas' Hospital  (in SMS: St Thomas'; times in Europe/London)",
    ]
    assert "KNH" not in out
    code, out, _ = ors_cli("catalog", "show", "--hospital", "KNH", "--json")
    (nairobi,) = json.loads(out)
    (knh,) = nairobi["hospitals"]
    assert (nairobi["code"], knh["code"], knh["timezone"]) == ("NBO", "KNH", "Africa/Nairobi")
    assert [d["code"] for d in knh["departments"]] == ["CARD", "CCC", "DERM"]
    assert knh["departments"][0]["doctors"][0] == {"code": "D001", "name": "Dr. Achieng Otieno"}


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            "bookings list --hospital XYZ --date 2026-11-24",
            (2, f"ors: no hospital XYZ; hospitals: {HOSPITALS}"),
        ),
        (
            "bookings list --hospital knh --date 2026-11-24 --department x",
            (2, "ors: no department X at KNH; departments at KNH: CARD, CCC, DERM"),
        ),
        (
            "slots list --hospital XYZ --department CARD --date 2026-11-24",
            (1, f"Error: no hospital XYZ; hospitals: {HOSPITALS}"),
        ),
        (
            "kiosk add --hospital XYZ --name Hall",
            (2, f"ors: no hospital XYZ; hospitals: {HOSPITALS}"),
        ),
        (
            "catalog show --hospital XYZ",
            (2, f"ors: no hospital XYZ; hospitals: {HOSPITALS}"),
        ),
        (
            "sessions close --hospital MCH --department CARD --date 2026-11-24 --reason strike",
            (2, "ors: no department CARD at MCH; departments at MCH: DEMO"),
        ),
        (
            f"invite --phone {MOTHER} --hospital STH --department DAY --from 2026-11-24 "
            "--to 2026-11-26 --expires 2026-11-25",
            (2, "ors: no department DAY at STH; departments at STH: NIGHT"),
        ),
    ],
)
def test_a_wrong_code_names_the_valid_choices(
    catalog: Runtime, ors_cli: Ors, line: str, expected: tuple[int, str]
) -> None:
    assert refusal(ors_cli(*line.split())) == expected


def test_every_command_speaks_sentences(catalog: Runtime, ors_cli: Ors) -> None:
    mine, _, _ = household(catalog, ors_cli)
    cancel = ["bookings", "cancel", mine, "--reason", "ill"]
    assert ors_cli(*cancel)[0] == 0
    assert refusal(ors_cli(*cancel)) == (2, "ors: that booking is cancelled, no longer active")
    assert refusal(ors_cli("bookings", "cancel", "NOSUCH", "--reason", "x")) == (
        2,
        "ors: no such booking",
    )
    assert refusal(ors_cli("bookings", "book", "--person", "999", "--slot", "1")) == (
        1,
        "Error: no such person",
    )


def all_codes() -> set[str]:
    """Every refusal code a command can meet: the core's, and the kiosk registry's."""
    found, todo = set(), [BookingError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo.extend(cls.__subclasses__())
    return found - {BookingError.code}


TUESDAY_0800 = datetime(2026, 11, 24, 8, 0, tzinfo=NAIROBI)


@pytest.mark.parametrize(
    "error, expected",
    [
        (errors.NotFound(what="person"), "no such person"),
        (
            errors.SlotFull([TUESDAY_0800]),
            "that slot has no place left (next free: Tue 24 Nov 08:00)",
        ),
        (errors.HoldExpired(), "the hold on that place ran out: choose the slot again"),
        (errors.LimitPerDay(2, "Amina"), "Amina already has 2 bookings that day"),
        (
            errors.DepartmentSameDay(),
            "this person already has a booking in this department that day",
        ),
        (errors.LimitPerPhone(6), "that phone's persons already hold 6 live bookings"),
        (errors.PersonLimit(5), "that phone cannot take another person (at most 5)"),
        (errors.PhoneInUse(), "that phone already belongs to someone"),
        (errors.InvalidName(20), "that is not a first name (letters only, at most 20)"),
        (errors.OutsideHorizon(TUESDAY_0800), "that day opens for booking at 2026-11-24 08:00"),
        (errors.SlotStarted(), "that slot has started"),
        (
            errors.DeadlinePassed(TUESDAY_0800),
            "it is too late to change that booking (the deadline was 2026-11-24 08:00)",
        ),
        (errors.Blocked(date(2026, 12, 7)), "this person may not book until 2026-12-07"),
        (errors.NotOwner(), "that booking belongs to another phone"),
        (errors.NotActive("checked_in"), "that booking is checked in, no longer active"),
        (errors.InvalidPhone(), "that is not a phone number"),
        (errors.NotBlocked(), "there is no block to lift"),
        (
            errors.RegistrationRequired("KNH"),
            "KNH books by real name: register the person's national ID "
            "(or a child's birth year) first",
        ),
        (
            errors.InvalidRegistration("national_id"),
            "that is not a national ID (5 to 20 letters and digits)",
        ),
        (
            errors.IdInUse(),
            "that national ID belongs to someone else (`ors citizens reassign-id` moves it)",
        ),
        (errors.AlreadyRegistered(), "that phone's holder has another national ID"),
        (
            errors.InvalidInvitation("the window is in the past"),
            "that invitation cannot work: the window is in the past",
        ),
        (errors.InvitationClosed("expired"), "that invitation is expired, no longer open"),
        (errors.OutsideInvitation(), "that slot is outside the invitation's department or days"),
        (
            errors.UnconfirmedPending(),
            "that phone has a voice booking its owner has not confirmed yet (one at a time)",
        ),
        (errors.VoiceFull(), "that hospital's day has no room for more unconfirmed voice bookings"),
        (
            errors.CodeLimit(per_hour=3, per_day=6),
            "that phone has had too many codes for now: try again later",
        ),
        (KioskRevoked(kiosk=4), "kiosk 4 is revoked for good: `ors kiosk add` registers a new one"),
        (errors.CheckInRefused(), "that cannot check in now"),
        (errors.UnknownCode(), "no booking has that code"),
        (errors.VoucherCancelled(), "that booking was cancelled"),
        (errors.VoucherReplaced(), "that voucher was replaced by a newer one (the booking moved)"),
        (errors.VoucherExpired(), "that voucher has expired (its day has passed)"),
        (
            errors.WrongHospital(hospital="Mbagathi County Hospital", starts_at=TUESDAY_0800),
            "that booking is at Mbagathi County Hospital",
        ),
        (errors.AlreadyCheckedIn(queue_number=7), "already checked in (queue number 7)"),
        (
            errors.TooEarly(opens_at=datetime(2026, 11, 24, 7, 30, tzinfo=NAIROBI)),
            "too early: check-in opens at 07:30",
        ),
        (errors.TooLate(starts_at=TUESDAY_0800), "too late: the appointment was at 08:00"),
        (
            errors.WrongDay(day=date(2026, 11, 24), starts_at=TUESDAY_0800),
            "that booking is for another day (2026-11-24)",
        ),
    ],
    ids=lambda v: v.code if isinstance(v, BookingError) else "",
)
def test_each_refusal_is_one_plain_sentence(error: BookingError, expected: str) -> None:
    assert sentence(error) == expected


def test_every_refusal_code_has_a_sentence() -> None:
    assert all_codes() <= set(SENTENCES)
