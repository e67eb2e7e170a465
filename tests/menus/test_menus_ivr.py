"""The IVR renderer, keypad and call turns on their own, over the fake core."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from menus.calls import MAX_MISSES, Calls, Listen, Turn
from menus.catalogue import Catalogue, CatalogueError
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import MAX_KEYS, IvrRenderer, Sentence, spoken, words
from menus.keys import Entry, Invalid, Nav, Pick
from menus.prompts import SPECIMEN_NAMES, fragment_catalogue, walk_pieces
from menus.reply import Option, Reply
from menus.session import Session
from menus.specimen import SpecimenPort, longest_moment
from menus.texts import Digits, Moment, Text
from menus.voice import VOICE_DIR, load_voice_catalogues
from tests.menus.conftest import CALLER, SHORTCODE
from tests.menus.fake_port import FakePort

SPEECH_LIMIT = 100  # words: 40 seconds at 150 words a minute
TUESDAY = date(2026, 12, 8)
HALF_PAST_TEN = datetime(2026, 12, 8, 10, 30)


@pytest.fixture(scope="module")
def renderer(catalogues: dict[str, Catalogue]) -> IvrRenderer:
    return IvrRenderer(load_voice_catalogues(), catalogues)


@pytest.fixture
def calls(port: FakePort, catalogues: dict[str, Catalogue], renderer: IvrRenderer) -> Calls:
    config = EngineConfig(shortcode=SHORTCODE, channel="ivr")
    return Calls(Engine(port, catalogues, config, keypad=renderer), renderer)


def listing(count: int, label: str = "Option", **changes: Any) -> Reply:
    options = tuple(Option(f"id{n}", f"{label} {n + 1}") for n in range(count))
    return replace(Reply("list", ("Choose one",), options), **changes)


def text(sentences: tuple[Sentence, ...]) -> str:
    return " ".join(s.text for s in sentences)


def turn_words(turn: Turn) -> int:
    return words(text(turn.sentences()))


# --- voice catalogues -------------------------------------------------------------------------


def test_every_language_has_the_same_voice_keys() -> None:
    voices = load_voice_catalogues()
    assert list(voices) == ["en", "sw"]
    assert voices["en"].texts.keys() == voices["sw"].texts.keys()
    assert voices["sw"].text("option", label="Weka miadi", key=1) == "Kwa Weka miadi, bonyeza 1."


def test_a_voice_file_that_disagrees_with_english_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text((VOICE_DIR / "en.yaml").read_text())
    (tmp_path / "xx.yaml").write_text('option: "For {name}, press {key}."\nnav: {more: More}\n')
    with pytest.raises(CatalogueError) as refused:
        load_voice_catalogues(tmp_path)
    assert "xx.yaml: option: placeholders differ" in str(refused.value)
    assert "xx.yaml: end.goodbye: missing" in str(refused.value)


# --- rendering --------------------------------------------------------------------------------


def test_options_are_read_with_their_keys(renderer: IvrRenderer) -> None:
    reply = listing(3, can_back=True)
    said = renderer.render(reply, "en")
    assert text(said) == (
        "Choose one. For Option 1, press 1. For Option 2, press 2. For Option 3, press 3. "
        "Press star to go back. Press 0 to hear this again."
    )


def test_fixed_sentences_are_made_of_their_own_words(calls: Calls) -> None:
    turn = calls.hop(Session.new("call", CALLER), None)
    assert [s.pieces for s in turn.prompt] == [
        ("Hospital appointments",),
        ("To book an appointment, press", "one"),
        ("To hear or cancel your appointments, press", "two"),
        ("To change the language, press", "three"),
        ("For help, press", "four"),
        ("Press 0 to hear this again",),
    ]


@pytest.mark.parametrize(
    ("language", "label", "said", "pieces"),
    [
        (
            "en",
            Moment("Tue 8 Dec", TUESDAY),
            "For Tuesday the eighth of December, press 1.",
            ("For", "Tuesday", "the eighth", "of December", "press", "one"),
        ),
        (
            "sw",
            Moment("Tue 8 Dec", TUESDAY),
            "Kwa Jumanne tarehe nane Desemba, bonyeza 1.",
            ("Kwa", "Jumanne", "tarehe nane", "Desemba", "bonyeza", "moja"),
        ),
        (
            "en",
            Text("Confirm", "confirm.ok"),
            "To confirm this appointment, press 1.",
            ("To confirm this appointment, press", "one"),
        ),
        (  # a name from the core is one piece of its own, between the frame's words
            "en",
            "Kenyatta National Hospital",
            "For Kenyatta National Hospital, press 1.",
            ("For", "Kenyatta National Hospital", "press", "one"),
        ),
    ],
)
def test_options_are_said_in_words_from_recordable_pieces(
    renderer: IvrRenderer, language: str, label: str, said: str, pieces: tuple[str, ...]
) -> None:
    option = renderer.render(Reply("list", ("Choose one",), (Option("o1", label),)), language)[1]
    assert option == Sentence(said, pieces)


@pytest.mark.parametrize(
    ("language", "line", "said", "pieces"),
    [
        (
            "en",
            Text("Tue 8 Dec: choose time", "book.slot", {"day": Moment("Tue 8 Dec", TUESDAY)}),
            "Times on Tuesday the eighth of December.",
            ("Times on", "Tuesday", "the eighth", "of December"),
        ),
        (
            "en",
            Text("T-code: 482 913 5575", "booked.tcode", {"tcode": Digits("482 913 5575")}),
            "Your T-code is 4 8 2, 9 1 3, 5 5 7 5.",
            (
                "Your T-code is",
                *("four", "eight", "two"),
                *("nine", "one", "three"),
                *("five", "five", "seven", "five"),
            ),
        ),
        (
            "sw",
            Moment("Tue 8 Dec 10:30", HALF_PAST_TEN),
            "Jumanne tarehe nane Desemba saa nne na nusu asubuhi.",
            ("Jumanne", "tarehe nane", "Desemba", "saa nne", "na nusu", "asubuhi"),
        ),
    ],
)
def test_screen_texts_are_worded_for_the_ear(
    renderer: IvrRenderer, language: str, line: str, said: str, pieces: tuple[str, ...]
) -> None:
    [sentence] = renderer.render(Reply("info", (line,), end=True), language)
    assert sentence == Sentence(said, pieces)


def test_tcodes_are_read_digit_by_digit_in_groups() -> None:
    assert spoken("T-code: 482 913 5575") == "T-code: 4 8 2, 9 1 3, 5 5 7 5."
    assert spoken("Booked!") == "Booked!"
    assert spoken("Mon 23 Nov: choose time") == "Mon 23 Nov: choose time."
    assert spoken("Call 0712 345 678") == "Call 0712 345 678."  # not a T-code


@pytest.mark.parametrize("count", [9, 20, 28, 120])
def test_pages_hold_at_most_eight_keys_and_forty_seconds(renderer: IvrRenderer, count: int) -> None:
    for label in ("Dept", "Plastic and Reconstructive Surgery Outpatient Clinic Number"):
        reply = listing(count, label, can_back=True)
        pages = renderer.pages(reply)
        assert [i for page in pages for i in page] == list(range(count))
        for n, page in enumerate(pages):
            assert 1 <= len(page) <= MAX_KEYS
            said = renderer.render(replace(reply, page=n), "sw")
            hint = renderer.say("sw", "hint.no_input")
            assert words(text((hint, *said))) < SPEECH_LIMIT
            assert ("Bonyeza 9 kwa zaidi." in text(said)) is (n < len(pages) - 1)


def test_digit_entry_asks_for_the_hash_key(renderer: IvrRenderer) -> None:
    reply = Reply("id", ("Enter your ID number",), input_kind="digits", can_back=True)
    assert text(renderer.render(reply, "en")) == (
        "Enter your ID number. Then press the hash key. Press star to go back."
    )


# --- reading keys -----------------------------------------------------------------------------


def test_keys_pick_on_the_page_heard(renderer: IvrRenderer) -> None:
    reply = listing(20)
    # Pages are planned by the seconds they take to say, so read keys against the plan.
    first, *_, final = pages = renderer.pages(reply)
    assert len(pages) >= 2 and len(final) < MAX_KEYS
    assert renderer.read("1", reply) == Pick("id0")
    assert renderer.read(str(len(first)), reply) == Pick(f"id{first.stop - 1}")
    second = replace(reply, page=1)
    assert renderer.read("1", second) == Pick(f"id{first.stop}")  # numbered per page
    assert renderer.read("1#", second) == Pick(f"id{first.stop}")  # the finishing key passed on
    last = replace(reply, page=len(pages) - 1)
    assert renderer.read(str(len(final)), last) == Pick("id19")
    assert renderer.read(str(len(final) + 1), last) == Invalid()  # no option after the last


def test_navigation_keys(renderer: IvrRenderer) -> None:
    reply = listing(20)
    assert renderer.read("9", reply) == Nav("more")
    assert renderer.read("*", reply) == Invalid()  # nothing behind the first screen
    assert renderer.read("*", replace(reply, page=1)) == Nav("back")
    assert renderer.read("*", listing(2, can_back=True)) == Nav("back")
    assert renderer.read("0", reply) == Nav("repeat")
    assert renderer.read("9", listing(3)) == Invalid()  # no next page


@pytest.mark.parametrize("raw", ["", "#", "12", "x", "١", "**", "9 9", "1 2"])
def test_anything_else_is_invalid(renderer: IvrRenderer, raw: str) -> None:
    assert renderer.read(raw, listing(20)) == Invalid()


def test_digit_entry_reads_digits_up_to_the_hash(renderer: IvrRenderer) -> None:
    reply = Reply("id", ("Enter your ID number",), input_kind="digits", can_back=True)
    assert renderer.read("12345678#", reply) == Entry("12345678")
    assert renderer.read("12345678", reply) == Entry("12345678")  # the timeout ended it
    assert renderer.read("*", reply) == Nav("back")
    assert renderer.read("12*4#", reply) == Invalid()
    assert renderer.read("#", reply) == Invalid()


def test_nothing_is_read_on_a_closing_screen(renderer: IvrRenderer) -> None:
    assert (
        renderer.read("1", Reply("booked", ("Booked!",), input_kind="none", end=True)) == Invalid()
    )


# --- call turns -------------------------------------------------------------------------------


def test_a_call_books_and_offers_to_hear_the_tcode_again(calls: Calls, port: FakePort) -> None:
    session = Session.new("call", CALLER)
    turn = calls.hop(session, None)
    for key in ("1", "1", "1", "1", "1", "1"):  # book > KNH > Cardiology > day > time > confirm
        turn = calls.hop(session, key)

    assert "Your T-code is 4 8 2, 9 1 3, 5 5 7 5." in text(turn.prompt)
    assert text(turn.prompt).endswith("Press 1 to hear it again.")
    assert turn.listen is not None
    assert turn.listen == Listen(1, "#", turn.listen.timeout) and not turn.retry
    assert text(turn.fallback) == "Thank you for calling. Goodbye."
    assert calls.hop(session, "1").prompt == turn.prompt
    goodbye = calls.hop(session, "2")
    assert goodbye.ended and goodbye.listen is None and not goodbye.gave_up
    assert len(port.bookings) == 1


def test_three_misses_in_a_row_give_up(calls: Calls) -> None:
    session = Session.new("call", CALLER)
    calls.hop(session, None)
    first = calls.hop(session, None)
    assert text(first.hint) == "Sorry, we did not hear a key." and first.retry
    second = calls.hop(session, "7")
    assert text(second.hint) == "Sorry, that key is not on this menu."
    assert text(second.prompt).startswith("Hospital appointments.")
    third = calls.hop(session, "")
    assert third.gave_up and third.ended and third.listen is None
    assert "SMS" in text(third.prompt)


def test_a_good_key_forgives_earlier_misses(calls: Calls) -> None:
    session = Session.new("call", CALLER)
    calls.hop(session, None)
    for _ in range(MAX_MISSES - 1):
        calls.hop(session, None)
    calls.hop(session, "0")  # repeat: a key that means something
    assert session.misses == 0
    assert not calls.hop(session, None).gave_up


def test_a_hint_already_said_by_the_provider_is_not_repeated(calls: Calls) -> None:
    session = Session.new("call", CALLER)
    calls.hop(session, None)
    assert calls.hop(session, None, hinted=True).hint == ()
    assert calls.hop(session, "7", hinted=True).hint != ()  # a wrong key is news


def test_misses_survive_the_session_store(calls: Calls) -> None:
    session = Session.new("call", CALLER)
    calls.hop(session, None)
    calls.hop(session, None)
    assert Session.from_json(session.to_json()).misses == 1
    old = session.to_json().replace(',"misses":1', "")
    assert Session.from_json(old).misses == 0  # saved before the field existed


def test_the_apology_ends_the_call(calls: Calls) -> None:
    turn = calls.failure("sw")
    assert turn.ended and turn.listen is None
    assert text(turn.prompt).endswith("Kwaheri.")


def test_every_turn_stays_under_forty_seconds_with_the_longest_names(
    catalogues: dict[str, Catalogue], renderer: IvrRenderer
) -> None:
    walks = [("1",) * 7, ("2", "1", "1", "1"), ("3", "2"), ("4",), ("7", "9", "1")]
    for language, cat in catalogues.items():
        for keys in walks:
            port = SpecimenPort(
                "Nairobi Metropolitan Area",
                "Coast General Teaching and Referral Hospital",
                "Plastic and Reconstructive Surgery",
                language,
                longest_moment(cat),
            )
            config = EngineConfig(shortcode=SHORTCODE, default_language=language, channel="ivr")
            call = Calls(Engine(port, catalogues, config, keypad=renderer), renderer)
            session = Session.new("call", CALLER)
            turns = [call.hop(session, None), *(call.hop(session, key) for key in keys)]
            for turn in turns:
                assert turn_words(turn) < SPEECH_LIMIT, text(turn.sentences())


# --- recordable pieces ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "sw"])
def test_every_piece_a_walk_says_is_in_the_fragment_catalogue(
    catalogues: dict[str, Catalogue], renderer: IvrRenderer, language: str
) -> None:
    fragments = fragment_catalogue(language, renderer, SPECIMEN_NAMES, SHORTCODE)
    walked = list(walk_pieces(language, renderer, catalogues))

    assert walked and None not in walked  # every sentence of the walks can be recorded
    assert {p for pieces in walked if pieces for p in pieces} <= set(fragments)
    assert fragments == sorted(set(fragments), key=lambda f: (f.casefold(), f))
    assert not [f for f in fragments if "{" in f or f != f.strip(" .,?!")]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            {
                "To book an appointment, press",
                "Thank you for calling. Goodbye",
                "Choose city",
                "Sorry, that time is now full",
                "Tuesday",
                "the eighth",
                "of December",
                "one",
                "English",
                "Kiswahili",
            },
        ),
        (
            "sw",
            {
                "Kuweka miadi, bonyeza",
                "Kuthibitisha miadi hii, bonyeza",
                "Kughairi, bonyeza",
                "Asante kwa kupiga simu. Kwaheri",
                "Jumanne",
                "tarehe nane",
                "Desemba",
                "moja",
                "English",
                "Kiswahili",
            },
        ),
    ],
)
def test_the_fragment_catalogue_holds_wordings_calendar_and_language_names(
    renderer: IvrRenderer, language: str, expected: set[str]
) -> None:
    assert expected <= set(fragment_catalogue(language, renderer))


def test_a_call_says_only_catalogued_pieces_and_the_cores_names(
    calls: Calls, renderer: IvrRenderer, port: FakePort
) -> None:
    fragments = set(fragment_catalogue("en", renderer))
    session = Session.new("call", CALLER)
    turns = [calls.hop(session, None), *(calls.hop(session, k) for k in ("1",) * 6)]
    said = [s for turn in turns for s in turn.sentences()]

    assert all(s.pieces is not None for s in said)
    names = {p for s in said for p in s.pieces or ()} - fragments
    hospitals = {"Kenyatta National Hospital", "Mbagathi County Hospital"}
    assert names == {*hospitals, "Cardiology", "Ear, Nose and Throat"}
    assert len(port.bookings) == 1


def test_a_language_without_speech_is_said_by_text_to_speech_only(
    catalogues: dict[str, Catalogue],
) -> None:
    renderer = IvrRenderer(load_voice_catalogues(), catalogues, speeches={})
    said = renderer.render(listing(2, can_back=True), "en")
    assert text(said).startswith("Choose one. For Option 1, press 1. For Option 2, press 2.")
    assert [s.pieces for s in said[1:3]] == [None, None]  # no words for the keys' numbers
    assert fragment_catalogue("en", renderer) == []  # so nothing is recorded for it
