"""`POST /hooks/at/ussd` hop by hop, as Africa's Talking drives it: one row per input.

Rows are (input, substrings expected on the screen, session ends?); DIAL opens a new session.
The clock stands at Monday 23 November 2026, 06:00 in Nairobi; Cardiology at Kenyatta National
Hospital has two remote places every half hour from 08:00.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, func, select, update

from gateway.app import create_app
from gateway.booking.domain.errors import REFUSAL_CODES as CORE_REFUSAL_CODES
from gateway.booking.domain.errors import BookingError
from gateway.booking.models import Booking, Citizen, Event
from gateway.clock import FixedClock
from gateway.logs import mask
from gateway.menus_port import refusals
from gateway.runtime import Runtime, build_runtime
from gateway.settings import BookingSettings, Secrets, Settings
from gateway.voucher_keys import VoucherKeys
from menus import Session, load_catalogues
from menus.gsm7 import bad_chars
from menus.ports import REFUSAL_CODES as MENU_REFUSAL_CODES
from menus.ports import Refused
from menus.refusals import refusal_line
from tests.booking.conftest import NAIROBI, slot_id
from tests.channels.conftest import (
    CALLER,
    DEMO_CATALOG,
    DIAL,
    EVENTS,
    HOOK,
    SERVICE_CODE,
    AtPhone,
    Row,
    other_phone,
)
from tests.conftest import TEST_CATALOG

MAIN = ["Hospital appointments", "1 Book", "2 My appointments", "3 Language", "4 Help"]
TO_TIMES: list[Row] = [
    (DIAL, MAIN, False),
    ("1", ["Choose city", "1 London", "2 Nairobi", "0 Back", "00 Home"], False),
    ("2", ["Choose hospital", "1 Kenyatta National Hospital", "2 Mbagathi"], False),
    ("1", ["Choose department", "1 Cardiology", "2 Dermatology"], False),
    ("1", ["Choose day", "1 Mon 23 Nov", "2 Tue 24 Nov", "98 More"], False),
    ("1", ["Mon 23 Nov: choose time", "1 08:00 (2 left)", "2 08:30 (2 left)"], False),
]
CONFIRM = ["Cardiology", "Kenyatta National Hospital", "Mon 23 Nov 08:00, held till 06:05"]
TO_CONFIRM: list[Row] = [*TO_TIMES, ("1", [*CONFIRM, "1 Confirm", "0 Back"], False)]
BOOKED = ["Booked!", "Cardiology", "Kenyatta National Hospital", "Mon 23 Nov 08:00"]
FULL_BOOKING: list[Row] = [*TO_CONFIRM, ("1", [*BOOKED, "T-code: "], True)]
KEYS_TO_TIMES = ("1", "2", "1", "1", "1")  # Book > Nairobi > KNH > Cardiology > Mon 23 Nov
TCODE = re.compile(r"T-code: (\d{3}) (\d{3}) (\d{4})")


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute)


def returning(rt: Runtime, phone: str = CALLER) -> None:
    """Make `phone` a caller who has booked before: their first screen has no privacy line
    above it (a first-time caller's has: tests/channels/test_privacy_line.py)."""
    rt.booking.book(phone, slot_id(rt, "DERM", monday(9)), "sms")


def tcode_on(body: str) -> str:
    """The T-code shown on a screen, checked to be in its three groups on one line."""
    found = TCODE.search(body)
    assert found, f"no grouped T-code in\n{body}"
    return "".join(found.groups())


def fill(rt: Runtime, sid: int) -> None:
    """Book every remote place of the slot that is still free, each for another citizen."""
    while True:
        try:
            rt.booking.book(other_phone(), sid, "sms")
        except BookingError as refused:
            assert refused.code == "slot_full"
            return


def count_bookings(rt: Runtime, status: str = "confirmed") -> int:
    with rt.reader() as s:
        query = select(func.count()).select_from(Booking).where(Booking.status == status)
        return s.scalars(query).one()


# --- the main paths ---------------------------------------------------------------------------


def test_full_booking_ends_with_the_grouped_tcode(phone: AtPhone, catalog: Runtime) -> None:
    body = phone.run(FULL_BOOKING)

    assert body.endswith("You will get an SMS.")
    [booking] = catalog.booking.upcoming(CALLER)
    assert booking.tcode == tcode_on(body)
    assert booking.starts_at == monday(8).replace(tzinfo=NAIROBI)
    assert (booking.department, booking.status) == ("Cardiology", "confirmed")
    assert catalog.booking.current_hold(CALLER) is None


@pytest.mark.parametrize(
    ("typed", "language", "error"),
    [
        ("9", "en", "Invalid choice, try again."),
        ("x", "en", "Invalid choice, try again."),
        ("98", "en", "Invalid choice, try again."),  # no next page here
        ("0", "en", "Invalid choice, try again."),  # nothing behind the main menu
        ("١", "en", "Invalid choice, try again."),  # an Arabic-Indic one is not "1"
        ("9", "sw", "Chaguo si sahihi, jaribu tena."),
        ("abc", "sw", "Chaguo si sahihi, jaribu tena."),
    ],
)
def test_invalid_input_repeats_the_screen_with_a_one_line_error(
    phone: AtPhone, catalog: Runtime, typed: str, language: str, error: str
) -> None:
    returning(catalog)
    catalog.booking.set_language(CALLER, language)
    before = phone.dial()

    body = phone.press(typed)

    assert body.startswith("CON ")
    assert phone.lines() == [error, *before[4:].split("\n")]
    phone.press("1")  # the session goes on from the same screen
    assert ("Choose city" if language == "en" else "Chagua mji") in phone.body


@pytest.mark.parametrize("typed", ["7", "", "1 2", "+1", "01"])
def test_invalid_input_deep_in_the_flow_keeps_the_options(phone: AtPhone, typed: str) -> None:
    phone.run(TO_TIMES[:4])
    before = phone.lines()

    phone.press(typed)  # "" is an empty answer: AT then posts "1*2*1*"

    assert phone.lines() == ["Invalid choice, try again.", *before]
    phone.run([("2", ["Choose day"], False)])  # "2 Dermatology" as shown


def test_back_walks_the_path_and_home_returns_to_main(phone: AtPhone, catalog: Runtime) -> None:
    phone.run(
        [
            *TO_CONFIRM,
            ("0", ["Mon 23 Nov: choose time"], False),  # Back has no side effect...
            ("0", ["Choose day"], False),
            ("0", ["Choose department"], False),
            ("0", ["Choose hospital"], False),
            ("00", MAIN, False),
            ("0", ["Invalid choice, try again.", "Hospital appointments"], False),
            ("1", ["Choose city"], False),
            ("2", ["Choose hospital"], False),
            ("00", MAIN, False),
        ]
    )
    assert catalog.booking.current_hold(CALLER) is not None  # ...and Home neither


def test_an_end_screen_closes_the_session(phone: AtPhone) -> None:
    phone.run([(DIAL, MAIN, False), ("4", ["Dial *384*123#", "T-code"], True)])
    assert "0 Back" not in phone.body and "00 Home" not in phone.body


# --- paging the demo catalogue ----------------------------------------------------------------


def _number_of(body: str, label: str) -> str:
    found = re.search(rf"^(\d+) {re.escape(label)}$", body[4:], re.MULTILINE)
    assert found, f"{label!r} not offered in\n{body}"
    return found.group(1)


@pytest.mark.parametrize(
    ("language", "more", "back", "title"),
    [
        ("en", "98 More", "0 Back", "Choose department"),
        ("sw", "98 Zaidi", "0 Rudi", "Chagua idara"),
    ],
)
def test_paging_28_departments_numbers_them_globally(
    runtime: Runtime, language: str, more: str, back: str, title: str
) -> None:
    runtime.booking.load_catalog(DEMO_CATALOG)
    runtime.booking.generate_slots(15)
    runtime.booking.set_language(CALLER, language)
    nairobi = next(c for c in runtime.booking.cities() if c.name == "Nairobi")
    knh = next(h for h in runtime.booking.hospitals(nairobi.id) if h.name.startswith("Kenyatta"))
    # Listed by the name the caller reads: the demo's Swahili names on a Swahili phone.
    names = sorted(d.name_in(language) for d in runtime.booking.departments(knh.id))
    assert len(names) == 28
    phone = AtPhone(create_app(runtime=runtime).test_client())

    phone.dial()
    phone.press("1")
    phone.press(_number_of(phone.body, "Nairobi"))
    phone.press(_number_of(phone.body, knh.name_in(language)))
    pages = [phone.lines()]
    while more in pages[-1]:
        phone.press("98")
        pages.append(phone.lines())

    assert len(pages) >= 3
    offered = [line.split(" ", 1) for page in pages for line in page if line[0].isdigit()]
    options = [(n, label) for n, label in offered if n not in ("98", "0", "00")]
    assert [int(n) for n, _ in options] == list(range(1, 29))  # global, in order, no gaps
    assert [label for _, label in options] == names  # every label whole, none split
    assert all(page[0] == title for page in pages)
    assert all(back in page for page in pages[1:])  # a later page can always go back
    # Every page was checked to be within 160 GSM-7 characters as it came in (AtPhone.post).

    phone.press("99")  # no option 99: the error joins the last page, the options stay
    assert phone.lines()[0] != title and phone.lines()[1:] == pages[-1]
    phone.press("0")  # back one page
    assert phone.lines() == pages[-2]
    phone.press("28")  # a number of another page still means that department
    assert phone.body.startswith("CON ") and ("day" in phone.body or "siku" in phone.body)


# --- holds: hesitation, a lost place, redial --------------------------------------------------


def test_expired_hold_whose_place_was_taken_offers_other_times(
    phone: AtPhone, catalog: Runtime, clock: FixedClock
) -> None:
    phone.run(TO_CONFIRM)
    clock.advance(minutes=6)  # the caller hesitated past the 5-minute hold
    fill(catalog, slot_id(catalog, "CARD", monday(8)))  # and others took the place

    phone.press("1")

    assert phone.lines()[:2] == [
        "Sorry, that time is now full. Next free: 08:30.",
        "Mon 23 Nov: choose time",
    ]
    assert "08:00" not in phone.body and "1 08:30 (2 left)" in phone.lines()
    phone.run(
        [
            ("1", ["Mon 23 Nov 08:30, held till 06:11", "1 Confirm"], False),
            ("1", ["Booked!", "Mon 23 Nov 08:30"], True),
        ]
    )
    [booking] = catalog.booking.upcoming(CALLER)
    assert booking.starts_at == monday(8, 30).replace(tzinfo=NAIROBI)
    assert booking.tcode == tcode_on(phone.body)


def test_redial_within_the_hold_continues_to_a_booking(
    phone: AtPhone, catalog: Runtime, clock: FixedClock
) -> None:
    phone.run(TO_CONFIRM)  # then the call drops
    dropped = phone.session_id
    clock.advance(minutes=3)

    phone.run(
        [
            (
                DIAL,
                [
                    "You have a place on hold.",
                    "1 Continue (Mon 23 Nov 08:00 Cardiology)",
                    "2 Start again",
                ],
                False,
            ),
            ("1", [*CONFIRM, "1 Confirm"], False),
            ("1", [*BOOKED, "T-code: "], True),
        ]
    )
    assert phone.session_id != dropped
    [booking] = catalog.booking.upcoming(CALLER)
    assert booking.tcode == tcode_on(phone.body)
    assert booking.starts_at == monday(8).replace(tzinfo=NAIROBI)


def test_redial_within_the_hold_can_start_again(phone: AtPhone, catalog: Runtime) -> None:
    phone.run(TO_CONFIRM)
    phone.run([(DIAL, ["1 Continue", "2 Start again"], False), ("2", MAIN, False)])
    assert catalog.booking.current_hold(CALLER) is None
    assert catalog.booking.upcoming(CALLER) == []


def test_redial_after_the_hold_time_starts_at_the_main_menu(
    phone: AtPhone, catalog: Runtime, clock: FixedClock
) -> None:
    phone.run(TO_CONFIRM)
    clock.advance(minutes=5, seconds=1)

    body = phone.run([(DIAL, MAIN, False)])

    assert "Continue" not in body and "place on hold" not in body


# --- my appointments, language ----------------------------------------------------------------


def test_my_appointments_cancel_ends_and_cancels(phone: AtPhone, catalog: Runtime) -> None:
    tcode = tcode_on(phone.run(FULL_BOOKING))
    grouped = f"{tcode[:3]} {tcode[3:6]} {tcode[6:]}"
    [booking] = catalog.booking.upcoming(CALLER)

    phone.run(
        [
            (DIAL, ["2 My appointments"], False),
            ("2", ["Your appointments", "1 23 Nov 08:00 Cardiology", "0 Back"], False),
            ("1", ["Cardiology", "Mon 23 Nov 08:00", f"T-code: {grouped}", "1 Cancel"], False),
            ("1", ["Cancel Cardiology on Mon 23 Nov 08:00?", "1 Yes, cancel"], False),
            ("1", ["Cancelled.", "Cardiology, Mon 23 Nov 08:00"], True),
        ]
    )
    assert catalog.booking.upcoming(CALLER) == []
    assert catalog.booking.booking(booking.ref).status == "cancelled"


def test_language_choice_persists_across_sessions(phone: AtPhone, catalog: Runtime) -> None:
    phone.run(
        [
            (DIAL, MAIN, False),
            ("3", ["Choose language", "1 English", "2 Kiswahili"], False),
            ("2", ["Lugha sasa ni Kiswahili.", "Miadi ya hospitali", "1 Weka miadi"], False),
        ]
    )
    assert catalog.booking.language(CALLER) == "sw"

    phone.run(
        [
            (DIAL, ["Miadi ya hospitali", "1 Weka miadi", "2 Miadi yangu", "4 Msaada"], False),
            ("1", ["Chagua mji", "0 Rudi", "00 Mwanzo"], False),
            ("2", ["Chagua hospitali"], False),
            ("1", ["Chagua idara"], False),
            ("1", ["Chagua siku", "1 Jumatatu 23 Nov", "98 Zaidi"], False),
            ("1", ["Jumatatu 23 Nov: chagua saa", "1 08:00 (nafasi 2)"], False),
            ("1", ["Jumatatu 23 Nov 08:00, ni yako hadi 06:05", "1 Kubali", "0 Rudi"], False),
            ("1", ["Imewekwa!", "Cardiology", "T-code: ", "Utapata SMS."], True),
        ]
    )
    [booking] = catalog.booking.upcoming(CALLER)
    assert booking.tcode == tcode_on(phone.body)


# --- every refusal of the core, in both languages ---------------------------------------------


def _to_times(phone: AtPhone, keys: tuple[str, ...] = KEYS_TO_TIMES) -> None:
    phone.dial()
    for typed in keys:
        phone.press(typed)


def _book_for_caller(rt: Runtime, dept: str, hour: int) -> str:
    return rt.booking.book(CALLER, slot_id(rt, dept, monday(hour)), "ussd").ref


def _slot_full(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _to_times(phone)
    fill(rt, slot_id(rt, "CARD", monday(8)))  # gone between listing and picking
    phone.press("1")


def _hold_expired(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _to_times(phone)
    phone.press("1")
    phone.dial()  # the call dropped; the redial offers to continue...
    clock.advance(minutes=6)  # ...but the caller waits too long to answer
    phone.press("1")


def _limit_per_day(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _book_for_caller(rt, "CARD", 8)
    _book_for_caller(rt, "DERM", 8)
    _to_times(phone, ("1", "2", "1", "3", "1"))  # HIV Comprehensive Care Clinic, Monday
    phone.press("1")


def _department_same_day(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _book_for_caller(rt, "CARD", 8)
    _to_times(phone)
    phone.press("2")  # 08:30, Cardiology again that day


def _outside_horizon(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _to_times(phone, ("1", "2", "1", "1", "2"))  # Tue 24 Nov
    # The horizon shrinks to today only (an operator's change) while the caller chooses.
    defaults = replace(rt.settings.booking.defaults, horizon_days=0)
    rt.booking.rules = BookingSettings(defaults=defaults)
    phone.press("1")


def _slot_started(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _to_times(phone)
    phone.press("1")  # confirm screen for 08:00
    clock.advance(hours=2, minutes=1)  # 08:01: the slot began while the screen was open
    phone.press("1")


def _deadline_passed(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    _book_for_caller(rt, "CARD", 8)
    clock.advance(minutes=30)  # 06:30: the deadline was 06:00
    phone.dial()
    for typed in ("2", "1", "1", "1"):  # my appointments > details > cancel? > yes
        phone.press(typed)


def _blocked(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    until = clock.now() + timedelta(days=30)
    rt.booking.set_language(CALLER, rt.ussd.engine.config.default_language)  # a known citizen
    with rt.writer() as s:
        s.execute(update(Citizen).where(Citizen.phone == CALLER).values(blocked_until=until))
        s.commit()
    # Issue #18: told on "Book", before choosing anything (the core still refuses a hold).
    phone.dial()
    phone.press("1")


def _id_in_use(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    real_name = replace(rt.settings.booking.defaults, real_name=True)
    rt.booking.rules = BookingSettings(hospitals={"KNH": real_name})
    rt.booking.settings = rt.booking.settings.with_overrides(secrets=Secrets(id_hash_key="k"))
    rt.booking.register("+254700000099", "Someone Else", "12345678")
    _to_times(phone)
    for typed in ("1", "Achieng Otieno", "12345678"):  # the time, the name, the same ID
        phone.press(typed)


def _not_found(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    ref = _book_for_caller(rt, "CARD", 8)
    phone.dial()
    phone.press("2")
    phone.press("1")  # the details screen
    rt.booking.cancel(ref, by="staff", reason="clinic closed")  # meanwhile, at the desk
    phone.press("1")


def _not_active(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    ref = _book_for_caller(rt, "CARD", 8)
    phone.dial()
    for typed in ("2", "1", "1"):  # the "Cancel ...?" question
        phone.press(typed)
    rt.booking.cancel(ref, by="staff", reason="clinic closed")
    phone.press("1")


def _invalid_name(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    phone.dial()
    for typed in ("5", "2", "R2-D2"):  # my family > add someone > a name that is none
        phone.press(typed)


def _person_limit(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    for name in ("Amina", "Baraka", "Chiku", "Dalia", "Eshe"):  # the most shown at once
        rt.booking.add_person(CALLER, name)
    phone.dial()
    for typed in ("5", "7", "Zawadi"):  # my family > add someone (after the five) > a name
        phone.press(typed)


def _limit_per_phone(rt: Runtime, phone: AtPhone, clock: FixedClock) -> None:
    rt.booking.add_person(CALLER, "Amina")  # a household: the phone's own rules count
    for day in (23, 24, 25, 26, 27, 30):  # six live bookings, one a day for "Me"
        rt.booking.book(CALLER, slot_id(rt, "CARD", datetime(2026, 11, day, 8)), "ussd")
    _to_times(phone, ("1", "1", "2", "1", "2", "1"))  # book > Me > ... > Dermatology, Monday
    phone.press("1")


# code -> (how to provoke it through the hook, English line, Swahili line)
REAL_REFUSALS = {
    "slot_full": (
        _slot_full,
        "Sorry, that time is now full. Next free: 08:30.",
        "Samahani, saa hiyo imejaa. Inayofuata: 08:30.",
    ),
    "hold_expired": (
        _hold_expired,
        "Your hold ran out. Please choose a time again.",
        "Muda wa kushikilia nafasi umeisha. Chagua saa tena.",
    ),
    "limit_per_day": (
        _limit_per_day,
        "You can book only 2 a day. Choose another day.",
        "Unaweza kuweka miadi 2 tu kwa siku. Chagua siku nyingine.",
    ),
    "department_same_day": (
        _department_same_day,
        "You already have this department that day. Choose another day.",
        "Tayari una miadi ya idara hii siku hiyo. Chagua siku nyingine.",
    ),
    "outside_horizon": (
        _outside_horizon,
        "That day opens for booking on Tue 24 Nov 00:00.",
        "Siku hiyo itafunguliwa Jumanne 24 Nov 00:00.",
    ),
    "slot_started": (
        _slot_started,
        "That time has passed. Choose a later time.",
        "Saa hiyo imepita. Chagua saa ya baadaye.",
    ),
    "deadline_passed": (
        _deadline_passed,
        "Too late to cancel (deadline Mon 23 Nov 06:00). Call the hospital.",
        "Muda wa kughairi uliisha Jumatatu 23 Nov 06:00. Piga simu hospitalini.",
    ),
    "blocked": (
        _blocked,
        "You cannot book until Wed 23 Dec.",
        "Huwezi kuweka miadi hadi Jumatano 23 Des.",
    ),
    "id_in_use": (
        _id_in_use,
        "That ID number is on another phone. Ask at the hospital desk.",
        "Kitambulisho hicho kiko kwenye simu nyingine. Uliza hospitalini.",
    ),
    "not_found": (_not_found, "Sorry, we could not find that.", "Samahani, hatukuipata."),
    "not_active": (
        _not_active,
        "That booking is no longer active.",
        "Miadi hiyo haitumiki tena.",
    ),
    "invalid_name": (
        _invalid_name,
        "Type a first name of up to 20 letters.",
        "Andika jina la kwanza lisilozidi herufi 20.",
    ),
    "person_limit": (
        _person_limit,
        "No more people can be added to this phone. Ask at the hospital desk.",
        "Huwezi kuongeza watu zaidi kwenye simu hii. Uliza hospitalini.",
    ),
    "limit_per_phone": (
        _limit_per_phone,
        "This phone can have only 6 appointments at a time.",
        "Simu hii inaweza kuwa na miadi 6 tu kwa wakati mmoja.",
    ),
}
# Codes no USSD caller can provoke today, and why; the catalogue must still say each one.
CATALOGUE_ONLY = {
    "not_owner": "the menus list only the caller's own bookings",
    "not_blocked": "only staff lift blocks",
    # The real-name screens ask for what is lacking instead (test_at_ussd_registration.py):
    "registration_required": "the registration screens ask for the name and ID instead",
    "invalid_registration": "the registration screens say what is expected and ask again",
    "already_registered": "a registered holder is never asked for an ID",
    "invalid_invitation": "staff create invitations",
    "invitation_closed": "invitations are not offered on USSD yet",
    "outside_invitation": "invitations are not offered on USSD yet",
    "unconfirmed_pending": "only voice bookings are unconfirmed claims",
    "voice_full": "only voice bookings count toward the unconfirmed ceiling",
    "code_limit": "one-time codes go to voice callers only",
    # Findings 7 and 12: the hook answers a caller id the core cannot read with its polite END
    # before any screen (tests/channels/test_caller_ids.py).
    "invalid_phone": "the hook refuses such a caller before the menus see it",
    "phone_in_use": "only staff move a dependant to a phone of their own",
}
# Facts for building each core error, as its constructor takes them.
CORE_FACTS: dict[str, dict[str, object]] = {
    "slot_full": {"next_times": [datetime(2026, 11, 25, 10, 0, tzinfo=NAIROBI)]},
    "limit_per_day": {"limit": 2},
    "outside_horizon": {"opens_at": datetime(2026, 11, 24, 0, 0, tzinfo=NAIROBI)},
    "deadline_passed": {"deadline": datetime(2026, 11, 24, 7, 30, tzinfo=NAIROBI)},
    "blocked": {"until": datetime(2026, 12, 23).date()},
    "not_active": {"status": "cancelled"},
    "registration_required": {"hospital": "KNH"},
    "invalid_registration": {"field": "national_id"},
    "invalid_invitation": {"reason": "no such department"},
    "invitation_closed": {"status": "expired"},
    "limit_per_phone": {"limit": 6},
    "person_limit": {"limit": 5},
    "invalid_name": {"max_length": 20},
}


def test_every_core_refusal_is_either_provoked_here_or_explained() -> None:
    assert set(REAL_REFUSALS) | set(CATALOGUE_ONLY) == set(CORE_REFUSAL_CODES)
    assert not set(REAL_REFUSALS) & set(CATALOGUE_ONLY)


@pytest.mark.parametrize("code", CORE_REFUSAL_CODES)
def test_every_core_refusal_has_its_own_line_in_every_language(code: str) -> None:
    error_class = next(c for c in BookingError.__subclasses__() if c.code == code)
    with pytest.raises(Refused) as refused, refusals():
        raise error_class(**CORE_FACTS.get(code, {}))

    assert refused.value.code == code  # the port passes it on, not as "unavailable"
    assert code in MENU_REFUSAL_CODES
    catalogues = load_catalogues()
    assert set(catalogues) >= {"en", "sw"}
    lines = {lang: refusal_line(cat, refused.value) for lang, cat in catalogues.items()}
    for language, line in lines.items():
        assert catalogues[language].texts[f"refused.{code}"], (language, code)
        assert 0 < len(line) <= 80 and "\n" not in line and not bad_chars(line), (language, line)
    assert lines["en"] != lines["sw"]


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize("code", list(REAL_REFUSALS))
def test_refusal_provoked_through_the_hook(
    phone: AtPhone, catalog: Runtime, clock: FixedClock, code: str, language: str
) -> None:
    provoke, english, swahili = REAL_REFUSALS[code]
    engine = catalog.ussd.engine
    engine.config = replace(engine.config, default_language=language)

    provoke(catalog, phone, clock)

    assert phone.body.startswith("CON "), phone.body  # the caller can go on
    assert phone.lines()[0] == (english if language == "en" else swahili)
    assert len(phone.lines()) > 1  # and is shown where to go next


def test_slot_started_offers_the_later_times(
    phone: AtPhone, catalog: Runtime, clock: FixedClock
) -> None:
    _slot_started(catalog, phone, clock)
    assert phone.lines()[1:3] == ["Mon 23 Nov: choose time", "1 08:30 (2 left)"]
    assert count_bookings(catalog) == 0


# --- provider behaviour: retries, tokens, end-of-session notices, failures --------------------


def test_a_retried_post_gets_the_same_body_and_books_once(
    phone: AtPhone, catalog: Runtime, client: FlaskClient
) -> None:
    first_screen = phone.dial()
    assert phone.post() == first_screen  # AT retried the dial
    phone.run(TO_CONFIRM[1:])
    form = {**phone.form(), "text": phone.form()["text"] + "*1"}

    answers = [client.post(HOOK, data=form).get_data(as_text=True) for _ in range(3)]

    assert answers[0].startswith("END Booked!")
    assert answers == [answers[0]] * 3
    assert count_bookings(catalog) == 1
    [booking] = catalog.booking.upcoming(CALLER)
    assert booking.tcode == tcode_on(answers[0])


@pytest.fixture
def token_client(
    settings: Settings, catalog: Runtime, clock: FixedClock, voucher_keys: VoucherKeys
) -> FlaskClient:
    secured = settings.with_overrides(secrets=Secrets(at_webhook_token="t0k"))
    rt = build_runtime(secured, engine=catalog.engine, clock=clock, keys=voucher_keys)
    return create_app(runtime=rt).test_client()


@pytest.mark.parametrize(
    ("label", "path", "status", "prefix"),
    [
        ("no token", HOOK, 403, None),
        ("wrong token", HOOK + "?token=nope", 403, None),
        ("empty token", HOOK + "?token=", 403, None),
        ("token with extra", HOOK + "?token=t0kX", 403, None),
        # A first-time caller: the privacy line comes first.
        ("right token", HOOK + "?token=t0k", 200, "CON We keep your bookings to serve you."),
        ("events, no token", EVENTS, 403, None),
        ("events, wrong token", EVENTS + "?token=t0", 403, None),
        ("events, right token", EVENTS + "?token=t0k", 200, "OK"),
    ],
)
def test_the_webhook_token_is_required_when_configured(
    token_client: FlaskClient, label: str, path: str, status: int, prefix: str | None
) -> None:
    form = {
        "sessionId": "ATUid_token",
        "serviceCode": SERVICE_CODE,
        "phoneNumber": CALLER,
        "networkCode": "63902",
        "text": "",
        "status": "Success",
    }
    response = token_client.post(path, data=form)

    assert response.status_code == status, label
    if prefix is not None:
        assert response.get_data(as_text=True).startswith(prefix), label


def _dropped_events(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == "ussd.dropped")))


def _session_notice(phone: AtPhone, status: str) -> None:
    form = {
        "date": "2026-11-23 06:01:00",
        "sessionId": phone.session_id,
        "serviceCode": SERVICE_CODE,
        "networkCode": "63902",
        "phoneNumber": phone.number,
        "status": status,
        "cost": "KES 0.00",
        "durationInMillis": "30210",
        "hopsCount": "7",
        "input": "1*2*1*1*1*1",
        "lastAppResponse": phone.body,
        "errorMessage": "",
    }
    response = phone.client.post(EVENTS, data=form)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK")


def test_a_dropped_session_holding_a_slot_is_noticed_once(phone: AtPhone, catalog: Runtime) -> None:
    phone.run(TO_CONFIRM)

    _session_notice(phone, "Incomplete")
    _session_notice(phone, "Incomplete")  # AT repeats itself: still one notice
    _session_notice(phone, "Failed")

    [event] = _dropped_events(catalog)
    assert event.payload["phone"] == CALLER
    assert event.payload["session_key"] == phone.session_id


@pytest.mark.parametrize("status", ["Incomplete", "Success", "Failed"])
def test_no_notice_without_a_held_slot(phone: AtPhone, catalog: Runtime, status: str) -> None:
    phone.run(TO_TIMES)  # browsing only: nothing held
    _session_notice(phone, status)
    assert _dropped_events(catalog) == []


def test_a_completed_session_is_not_noticed(phone: AtPhone, catalog: Runtime) -> None:
    phone.run(TO_CONFIRM)
    _session_notice(phone, "Success")
    assert _dropped_events(catalog) == []


def test_an_internal_failure_ends_with_an_apology_never_an_error(
    settings: Settings,
    catalog: Runtime,
    clock: FixedClock,
    voucher_keys: VoucherKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The session store's Redis is gone (a closed port): every hop fails inside.
    broken = build_runtime(
        settings.with_overrides(redis_url="redis://127.0.0.1:1/0"),
        engine=catalog.engine,
        clock=clock,
        keys=voucher_keys,
    )
    phone = AtPhone(create_app(runtime=broken).test_client())

    for typed in (None, "1", "1*2"):
        if typed is None:
            phone.session_id = "ATUid_broken"
        phone.inputs = typed.split("*") if typed else []
        response = phone.client.post(HOOK, data=phone.form())
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and response.mimetype == "text/plain"
        apology = re.fullmatch(
            r"END Sorry, the service is not available now\. Please try again later\. "
            r"\(ref ([a-z]{8})\)",
            body,
        )
        assert apology, body
        assert len(body) <= 182 and not bad_chars(body)
        # The ref leads to the logged traceback, even through the log's phone masking.
        logged = mask(caplog.records[-1].getMessage())
        assert apology.group(1) in logged and caplog.records[-1].exc_info
    assert count_bookings(catalog) == 0


# --- the Redis session store (production mode) ------------------------------------------------


def _session_key(phone: AtPhone) -> str:
    return f"ors:menus:session:{phone.session_id}"


@pytest.mark.redis
class TestWithTheRedisSessionStore:
    @pytest.fixture
    def redis_runtime(
        self,
        settings: Settings,
        engine: Engine,
        clock: FixedClock,
        voucher_keys: VoucherKeys,
        redis_client: Redis,
    ) -> Runtime:
        rt = build_runtime(
            settings, engine=engine, clock=clock, keys=voucher_keys, redis=redis_client
        )
        rt.booking.load_catalog(TEST_CATALOG)
        rt.booking.generate_slots(15)
        return rt

    def test_full_booking_keeps_the_session_in_redis(
        self, redis_runtime: Runtime, redis_client: Redis
    ) -> None:
        phone = AtPhone(create_app(runtime=redis_runtime).test_client())
        phone.run(TO_CONFIRM)
        assert redis_client.get(_session_key(phone)) is not None
        assert 0 < redis_client.ttl(_session_key(phone)) <= redis_runtime.settings.ussd_session_ttl

        phone.run([("1", [*BOOKED, "T-code: "], True)])

        # An END closes it: what stays (until the TTL) is the closed session with its answer.
        raw = redis_client.get(_session_key(phone))
        assert isinstance(raw, bytes)
        stored = Session.from_json(raw)
        assert stored.shown is not None and stored.shown.end
        # The answer, and of the input only a keyed digest: AT's text repeats every answer.
        assert stored.answered is not None and stored.answered[1] == phone.body
        assert "*".join(phone.inputs) not in raw.decode()
        assert 0 < redis_client.ttl(_session_key(phone)) <= redis_runtime.settings.ussd_session_ttl
        [booking] = redis_runtime.booking.upcoming(CALLER)
        assert booking.tcode == tcode_on(phone.body)
        final = phone.body
        assert phone.post() == final  # AT retries the last hop: the same answer
        assert phone.press("1") == final  # and nothing more happens in a closed session
        assert count_bookings(redis_runtime) == 1

    def test_a_redial_continues_from_redis(self, redis_runtime: Runtime) -> None:
        phone = AtPhone(create_app(runtime=redis_runtime).test_client())
        phone.run(TO_CONFIRM)
        phone.run(
            [
                (DIAL, ["1 Continue (Mon 23 Nov 08:00 Cardiology)"], False),
                ("1", CONFIRM, False),
                ("1", BOOKED, True),
            ]
        )
        [booking] = redis_runtime.booking.upcoming(CALLER)
        assert booking.tcode == tcode_on(phone.body)
