"""Who the appointment is for: "Me" or a dependant of the phone, over USSD and voice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from menus.calls import Calls, Turn
from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer, words
from menus.ports import Refused
from menus.refusals import refusal_line
from menus.session import Session
from menus.specimen import SpecimenPort, longest_person
from menus.voice import load_voice_catalogues
from tests.menus.conftest import CALLER, DIAL, SHORTCODE, Phone
from tests.menus.fake_port import NOW, FakePort
from tests.menus.test_menus_booking import FULL_BOOKING

SLOT = "CARD-1124-0930"  # Cardiology at KNH, Tue 24 Nov 09:30: "1" at every step
QUESTION = ["Who is the appointment for?", "1 Me", "2 Amina", "3 Baraka", "4 Add someone"]
MAIN_EN = ["1 Book", "2 My appointments", "3 Language", "4 Help", "5 My family"]
MAIN_SW = ["1 Weka miadi", "2 Miadi yangu", "3 Lugha", "4 Msaada", "5 Familia yangu"]


@pytest.fixture
def family(port: FakePort) -> FakePort:
    port.add_dependants(CALLER, "Amina", "Baraka")
    return port


def calls_of(port: FakePort, method: str) -> list[tuple[object, ...]]:
    return [args for name, args in port.calls if name == method]


# --- USSD: the question -----------------------------------------------------------------------


@pytest.mark.parametrize(("language", "main"), [("en", MAIN_EN), ("sw", MAIN_SW)])
def test_a_phone_without_dependants_books_as_it_always_did(
    phone: Phone, port: FakePort, language: str, main: list[str]
) -> None:
    port.languages[CALLER] = language
    screen = phone.dial()
    assert screen.text.splitlines()[1:] == main  # "My family" last, the others unmoved

    port.languages[CALLER] = "en"
    phone.run(FULL_BOOKING)  # the question is skipped: the same keys, the same screens

    assert calls_of(port, "hold") == [(CALLER, phone.key, SLOT)]  # for "Me": no person
    assert calls_of(port, "book") == [(CALLER, SLOT, "ussd", f"{phone.key}:book")]


def test_back_from_the_first_screen_skips_the_question_it_skipped(phone: Phone) -> None:
    phone.run([(DIAL, ["1 Book"], False), ("1", ["Choose hospital"], False)])
    phone.run([("0", ["Hospital appointments", "5 My family"], False)])


@pytest.mark.parametrize(
    ("typed", "person", "confirm", "booked"),
    [
        ("1", (), "Tue 24 Nov 09:30, held till 08:05", "Booked!"),
        ("2", ("P1",), "For Amina, 24 Nov 09:30", "Booked for Amina!"),
        ("3", ("P2",), "For Baraka, 24 Nov 09:30", "Booked for Baraka!"),
    ],
)
def test_with_dependants_book_asks_who_and_books_for_them(
    phone: Phone,
    family: FakePort,
    typed: str,
    person: tuple[str, ...],
    confirm: str,
    booked: str,
) -> None:
    screen = phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", [*QUESTION, "0 Back", "00 Home"], False),
            (typed, ["Choose hospital"], False),
            ("1", ["Choose department"], False),
            ("1", ["Choose day"], False),
            ("1", ["choose time"], False),
            ("1", ["Cardiology", "Kenyatta National Hospital", confirm, "1 Confirm"], False),
            ("1", [booked, "Cardiology", "T-code: 482 913 5575"], True),
        ]
    )

    assert calls_of(family, "hold") == [(CALLER, phone.key, SLOT, *person)]
    assert calls_of(family, "book") == [(CALLER, SLOT, "ussd", f"{phone.key}:book", *person)]
    assert ("You will get an SMS." in screen.text) is (not person)  # room for the name


def test_my_family_asks_even_a_phone_without_dependants(phone: Phone, port: FakePort) -> None:
    phone.run(
        [
            (DIAL, ["5 My family"], False),
            ("5", ["Who is the appointment for?", "1 Me", "2 Add someone", "0 Back"], False),
            ("1", ["Choose hospital"], False),
            ("0", ["Who is the appointment for?"], False),  # asked, so Back returns to it
        ]
    )


# --- USSD: adding someone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first_line", "lands_on", "added"),
    [
        ("amina", "Amina added.", "hospital", ["Amina"]),
        ("  mary  jane ", "Mary added.", "hospital", ["Mary"]),
        ("R2-D2", "Type a first name of up to 20 letters.", "person_add", []),
        ("Wanjiru-Nyambura-Akin", "Type a first name of up to 20 letters.", "person_add", []),
    ],
)
def test_add_someone_then_book_for_them(
    phone: Phone, port: FakePort, name: str, first_line: str, lands_on: str, added: list[str]
) -> None:
    phone.run([(DIAL, [], False), ("5", [], False), ("2", ["Type their first name."], False)])

    screen = phone.press(name)

    assert screen.text.splitlines()[0] == first_line and not screen.end
    assert screen.reply.screen == lands_on
    assert [p.name for p in port.dependants.get(CALLER, [])] == added


def test_a_name_refused_is_asked_again_and_back_returns_to_the_question(
    phone: Phone, port: FakePort
) -> None:
    phone.run(
        [
            (DIAL, [], False),
            ("5", [], False),
            ("2", [], False),
            ("Amina2", ["Type a first name of up to 20 letters.", "0 Back"], False),
            ("0", ["Who is the appointment for?", "2 Add someone"], False),
        ]
    )


def test_a_dependant_added_is_the_one_booked_for(phone: Phone, port: FakePort) -> None:
    phone.run([(DIAL, [], False), ("5", [], False), ("2", [], False), ("amina", [], False)])
    for typed in ("1", "1", "1"):  # KNH > Cardiology > Tue 24 Nov
        phone.press(typed)
    phone.run(
        [
            ("1", ["For Amina, 24 Nov 09:30"], False),
            ("1", ["Booked for Amina!"], True),
        ]
    )
    [amina] = port.dependants[CALLER]
    assert calls_of(port, "book")[0][-1] == amina.id


def test_a_phone_at_its_limit_chooses_among_its_persons(phone: Phone, port: FakePort) -> None:
    port.add_dependants(CALLER, "Amina", "Baraka", "Chiku", "Dalia", "Eshe")
    phone.run(
        [
            (DIAL, [], False),
            ("5", [], False),
            ("7", ["Type their first name."], False),  # "7 Add someone", after the five
            (
                "Zawadi",
                ["No more people can be added to this phone.", "Who is the appointment for?"],
                False,
            ),
        ]
    )
    assert len(port.dependants[CALLER]) == 5


# --- resume and my appointments ---------------------------------------------------------------


def test_a_resumed_session_books_for_the_same_person(phone: Phone, family: FakePort) -> None:
    for typed in (DIAL, "1", "2", "1", "1", "1", "1"):  # ... Amina ... the confirm screen
        phone.dial() if typed is DIAL else phone.press(typed)
    # The call drops; the redial continues with the place held for Amina.
    phone.run(
        [
            (DIAL, ["1 Continue (Tue 24 Nov 09:30 Cardiology)"], False),
            ("1", ["For Amina, 24 Nov 09:30", "1 Confirm"], False),
            ("1", ["Booked for Amina!"], True),
        ]
    )
    assert calls_of(family, "book") == [(CALLER, SLOT, "ussd", f"{phone.key}:book", "P1")]


def test_my_appointments_name_the_dependants_and_cancel_one(phone: Phone, family: FakePort) -> None:
    family.hold(CALLER, "earlier", SLOT, "P1")
    family.book(CALLER, SLOT, "ussd", "earlier:book", "P1")
    family.hold(CALLER, "earlier-2", "CARD-1124-1000")
    family.book(CALLER, "CARD-1124-1000", "ussd", "earlier-2:book")

    phone.run(
        [
            (DIAL, [], False),
            ("2", ["1 Amina: 24 Nov 09:30 Cardiology", "2 24 Nov 10:00 Cardiology"], False),
            ("1", ["Cardiology", "T-code: 482 913 5575", "1 Cancel"], False),
            ("1", ["Cancel Cardiology on Tue 24 Nov 09:30?"], False),
            ("1", ["Cancelled."], True),
        ]
    )
    assert [b.person for _, b in family.bookings.values() if b.status == "confirmed"] == [None]


# --- refusals that name the person ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "facts", "english", "swahili"),
    [
        (
            "department_same_day",
            {},
            "Amina already has this department that day. Choose another day.",
            "Amina ana miadi ya idara hii siku hiyo. Chagua siku nyingine.",
        ),
        (
            "limit_per_day",
            {"limit": 2},
            "Amina can book only 2 a day. Choose another day.",
            "Amina ana kikomo cha miadi 2 kwa siku. Chagua siku nyingine.",
        ),
        (
            "blocked",
            {"until": date(2026, 12, 23)},
            "Amina cannot book until Wed 23 Dec.",
            "Amina hawezi kuwekewa miadi hadi Jumatano 23 Des.",
        ),
    ],
)
def test_refusals_about_a_dependant_name_them(
    catalogues: dict[str, Catalogue],
    code: str,
    facts: dict[str, object],
    english: str,
    swahili: str,
) -> None:
    named = Refused(code, person="Amina", **facts)
    assert refusal_line(catalogues["en"], named) == english
    assert refusal_line(catalogues["sw"], named) == swahili
    for holder in (Refused(code, **facts), Refused(code, person=None, **facts)):
        assert "Amina" not in refusal_line(catalogues["en"], holder)  # "Me": as ever


@pytest.mark.parametrize(
    ("stage", "code", "facts", "lands_on"),
    [
        ("hold", "department_same_day", {}, "day"),
        ("book", "limit_per_day", {"limit": 2}, "day"),
        ("hold", "blocked", {"until": date(2026, 12, 23)}, "main"),
        ("hold", "limit_per_phone", {"limit": 6}, "main"),
    ],
)
def test_a_refused_booking_for_a_dependant_says_whom_and_leads_on(
    phone: Phone, family: FakePort, stage: str, code: str, facts: dict[str, object], lands_on: str
) -> None:
    for typed in (DIAL, "1", "2", "1", "1", "1"):  # ... Amina ... the times
        phone.dial() if typed is DIAL else phone.press(typed)
    if stage == "book":
        phone.press("1")
    person = {} if code == "limit_per_phone" else {"person": "Amina"}
    family.refuse(stage, code, **person, **facts)

    screen = phone.press("1")

    first = screen.text.splitlines()[0]
    assert first.startswith("Amina" if person else "This phone can have only 6")
    assert screen.reply.screen == lands_on and not screen.end


# --- voice: choose only, and never say a typed name -------------------------------------------


@pytest.fixture
def voice(family: FakePort, catalogues: dict[str, Catalogue]) -> Calls:
    renderer = IvrRenderer(load_voice_catalogues(), catalogues)
    config = EngineConfig(shortcode=SHORTCODE, channel="ivr")
    return Calls(Engine(family, catalogues, config, keypad=renderer), renderer)


# The fake core's slot, as a call says it.
TUESDAY_930 = "Tuesday the twenty-fourth of November at half past nine in the morning"


def said(turns: Sequence[Turn]) -> str:
    return " ".join(s.text for turn in turns for s in turn.sentences())


def test_voice_offers_the_persons_by_number_and_no_way_to_add(voice: Calls) -> None:
    session = Session.new("call", CALLER)
    main = voice.hop(session, None)
    question = voice.hop(session, "1")

    assert "My family" not in said([main])
    prompt = said([question])
    assert prompt.startswith(
        "Who is the appointment for? For yourself, press 1. For Person 2, press 2. "
        "For Person 3, press 3."
    )
    assert "add someone" not in prompt.casefold() and "Amina" not in prompt
    # Recordable pieces: the fixed words, then the numbers said as numbers.
    assert [s.pieces for s in question.prompt[:3]] == [
        ("Who is the appointment for",),
        ("For yourself, press", "one"),
        ("For", "Person", "two", "press", "two"),
    ]


def test_voice_books_for_person_2_without_saying_the_name(voice: Calls, family: FakePort) -> None:
    session = Session.new("call", CALLER)
    turns = [voice.hop(session, None)]
    for key in ("1", "2", "1", "1", "1", "1"):  # book > person 2 > KNH > CARD > day > time
        turns.append(voice.hop(session, key))
    turns.append(voice.hop(session, "1"))  # confirm

    assert f"For Person 2, {TUESDAY_930}." in said(turns[-2:-1])
    assert said(turns[-1:]).startswith("Booked for Person 2!")
    # The person is a number, said from recordings like any other ("Person", "two").
    confirm = turns[-2].prompt
    assert all(s.pieces is not None and "2" not in s.pieces for s in confirm)
    assert (turns[-1].prompt[0].pieces or ())[:3] == ("Booked for", "Person", "two")
    assert "Amina" not in said(turns)
    assert calls_of(family, "book")[0][-1] == "P1"


def test_voice_names_a_dependant_in_lists_and_refusals_by_number(
    voice: Calls, family: FakePort
) -> None:
    family.hold(CALLER, "earlier", SLOT, "P2")
    family.book(CALLER, SLOT, "ussd", "earlier:book", "P2")
    session = Session.new("call", CALLER)
    voice.hop(session, None)
    listed = voice.hop(session, "2")
    assert f"For Person 3: {TUESDAY_930} at Kenyatta National Hospital, press 1." in said([listed])

    session = Session.new("call-2", CALLER)
    for key in (None, "1", "2", "1", "1", "1"):  # ... person 2 ... the times
        voice.hop(session, key)
    family.refuse("hold", "department_same_day", person="Amina")
    refused = voice.hop(session, "1")
    assert said([refused]).startswith("Person 2 already has this department that day.")
    assert "Amina" not in said([listed, refused])


def test_a_place_held_for_someone_hidden_meanwhile_is_not_booked_for_me(
    phone: Phone, family: FakePort
) -> None:
    for typed in (DIAL, "1", "2", "1", "1", "1", "1"):  # ... Amina ... the confirm screen
        phone.dial() if typed is DIAL else phone.press(typed)
    family.dependants[CALLER].pop(0)  # Amina hidden at the desk; the call dropped

    phone.run(
        [
            (DIAL, ["1 Continue"], False),
            ("1", ["1 Confirm"], False),
            ("1", ["Sorry, we could not find that."], False),
        ]
    )
    assert calls_of(family, "book") == [(CALLER, SLOT, "ussd", f"{phone.key}:book", "P1")]
    assert not family.bookings


@pytest.mark.parametrize("language", ["en", "sw"])
def test_the_voice_question_with_the_most_dependants_stays_under_forty_seconds(
    catalogues: dict[str, Catalogue], language: str
) -> None:
    renderer = IvrRenderer(load_voice_catalogues(), catalogues)
    port = SpecimenPort("Nairobi", "Hospital", "Clinic", language, NOW, dependants=5)
    config = EngineConfig(shortcode=SHORTCODE, default_language=language, channel="ivr")
    call = Calls(Engine(port, catalogues, config, keypad=renderer), renderer)
    session = Session.new("call", CALLER)
    call.hop(session, None)

    question = call.hop(session, "1")

    spoken = said([question])
    assert words(spoken) < 100
    assert (
        "For Person 6, press 6." if language == "en" else "Kwa Mtu namba 6, bonyeza 6."
    ) in spoken
    assert longest_person() not in spoken
