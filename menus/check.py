"""Render every screen of every flow in every language and list what breaks the USSD limits.

Used by tests and by `ors menus check` with the longest names of the loaded catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ports import REFUSAL_CODES, Refused
from menus.reply import Reply
from menus.session import Session
from menus.specimen import MAX_DEPENDANTS, SpecimenPort, longest_moment, longest_person
from menus.ussd import UssdRenderer


@dataclass(frozen=True)
class Violation:
    screen: str
    language: str
    page: int  # 0-based
    length: int  # characters before any shortening
    bad_chars: str

    def __str__(self) -> str:
        problem = f"{self.length} characters" if not self.bad_chars else f"{self.bad_chars!r}"
        return f"{self.language} {self.screen} page {self.page + 1}: {problem}"


@dataclass(frozen=True)
class _Scenario:
    port: dict[str, Any]  # SpecimenPort fields to change
    typed: tuple[str, ...]  # what the caller types after dialling
    refusal: str | None = None  # the code `port["refuse_at"]` raises
    named: bool = False  # the refusal is about a dependant, whom it names


_BOOK = ("1",) * 7  # main > city > hospital > department > day > slot > confirm
_CANCEL = ("2", "1", "1", "1")  # my appointments > details > cancel? > yes
_KEEP = ("2", "1", "1")  # my appointments > a voice booking's details > keep it
# My appointments (invitations first) > the first invitation > day > time > confirm.
_INVITED = ("2", "1", "1", "1", "1")
_INVITATIONS = {"with_invitations": True}
# With the most dependants (check_screens says how many): who is it for? > the first of
# them, then on as _BOOK. _ADD_SOMEONE stands for the number of "Add someone" after them.
_FAMILY = {"dependants": MAX_DEPENDANTS}
_BOOK_FOR = ("1", "2", *_BOOK[1:])
_ADD_SOMEONE = "add"
_ADD = ("5", "2", "Amina")  # my family (only "Me") > add someone > the name
# The refusals that name the dependant they are about.
_NAMED = ("limit_per_day", "department_same_day", "blocked")
# Real-name mode: the time chosen, then a full name, a birth year and an ID (the specimen
# asks all three, so each screen is seen, for a dependant too), then confirm and booked.
_REGISTERING = {"registration": ("name", "birth_year", "national_id")}
_REGISTER = (*_BOOK[:6], "Amina Wanjiru Njeri", "2015", "12345678", "1")
_REGISTER_FOR = (*_BOOK_FOR[:7], "Amina Wanjiru Njeri", "2015", "12345678", "1")
_SCENARIOS = (
    _Scenario({}, _BOOK),
    _Scenario({"informed": False}, ()),  # the first screen with the privacy line
    _Scenario({}, ("x",)),
    _Scenario({"with_hold": True}, ("1",)),
    _Scenario({"with_hold": True}, ("2",)),
    _Scenario({}, _CANCEL),
    _Scenario({"unconfirmed": True}, _KEEP),
    _Scenario({"with_bookings": False}, ("2",)),
    _Scenario({}, ("3", "2")),
    _Scenario({}, ("4",)),
    _Scenario({"with_choices": False}, ("1",)),
    _Scenario({"with_days": False}, _BOOK[:4]),
    _Scenario({"with_slots": False}, _BOOK[:5]),
    _Scenario(_FAMILY, _BOOK_FOR),  # the question, paged; confirm and booked for a dependant
    _Scenario(_FAMILY, ("1", _ADD_SOMEONE)),
    _Scenario({}, _ADD),  # my family with only "Me", add someone, "added" on the next screen
    _Scenario({**_FAMILY, "with_hold": True, "held_for": "P0"}, ("1",)),  # resumed for them
    _Scenario(_FAMILY, _CANCEL),  # my appointments with the dependants' names
    _Scenario(_INVITATIONS, _INVITED),  # an invitation taken up, listed above the bookings
    _Scenario({**_FAMILY, **_INVITATIONS}, _INVITED),  # a dependant's, named
    _Scenario({**_INVITATIONS, "with_slots": False}, _INVITED[:3]),
    _Scenario({**_INVITATIONS, "with_days": False}, _INVITED[:2]),
    _Scenario({"blocked": True}, ("1",)),  # "Book" refused above the main menu
    _Scenario({**_FAMILY, "blocked": True}, ("1",)),  # the whole phone blocked
    _Scenario({**_FAMILY, "persons_blocked": True}, ("1", "2")),  # above the question, paged
    _Scenario(_REGISTERING, _REGISTER),
    _Scenario({**_FAMILY, **_REGISTERING}, _REGISTER_FOR),
    # An ID of the wrong form: the screen says how many digits, asked again.
    _Scenario(
        {"registration": ("national_id",), "refuse_at": "register_person"},
        (*_BOOK[:6], "12"),
        "invalid_registration",
    ),
    *(
        _Scenario({**_FAMILY, "refuse_at": stage}, typed, code, named=True)
        for code in _NAMED
        for stage, typed in (("hold", _BOOK_FOR[:7]), ("book", _BOOK_FOR))
    ),
    *(
        _Scenario({"refuse_at": stage}, typed, code)
        for code in REFUSAL_CODES
        for stage, typed in (
            ("hold", _BOOK[:6]),
            ("book", _BOOK),
            ("cancel", _CANCEL),
            ("confirm_claim", _KEEP),
            ("book_invitation", _INVITED),
            ("add_person", _ADD),
        )
    ),
)


def check_screens(
    catalogues: Mapping[str, Catalogue],
    *,
    city: str,
    hospital: str,
    department: str,
    shortcode: str,
    person: str | None = None,
    dependants: int = MAX_DEPENDANTS,
    renderer: UssdRenderer | None = None,
) -> list[Violation]:
    """Return every screen page that is too long or has characters outside GSM-7 basic;
    `person`: every dependant's first name (default: as long as the core's default allows),
    `dependants`: how many a phone may have besides "Me"."""
    renderer = renderer or UssdRenderer()
    person = person or longest_person()
    found: dict[Violation, None] = {}  # ordered, without duplicates
    for language, cat in catalogues.items():
        config = EngineConfig(shortcode=shortcode, default_language=language)
        for scenario in _SCENARIOS:
            moment = longest_moment(cat)
            port = SpecimenPort(city, hospital, department, language, moment, person=person)
            _prepare(port, scenario, dependants)
            engine = Engine(port, catalogues, config, keypad=renderer)
            add = str(port.dependants + 2)  # after "Me" and the dependants
            typed = tuple(add if t == _ADD_SOMEONE else t for t in scenario.typed)
            for reply in _replies(engine, typed):
                found.update(dict.fromkeys(_violations(reply, language, renderer)))
    return list(found)


def _prepare(port: SpecimenPort, scenario: _Scenario, dependants: int) -> None:
    for name, value in scenario.port.items():
        setattr(port, name, value)
    if port.dependants:
        port.dependants = dependants
    if scenario.refusal is not None:
        params = _refusal_params(scenario.refusal, port)
        if scenario.named:
            params["person"] = port.person
        port.refusal = Refused(scenario.refusal, **params)


def _refusal_params(code: str, port: SpecimenPort) -> dict[str, Any]:
    later = port.moment + timedelta(days=1)  # another day: the longest way to say "next free"
    params: dict[str, dict[str, Any]] = {
        "slot_full": {"next_times": [later]},
        "outside_horizon": {"opens_at": later},
        "limit_per_day": {"limit": 2},
        "deadline_passed": {"deadline": port.moment},
        "blocked": {"until": later.date()},
        "limit_per_phone": {"limit": 6},
        "person_limit": {"limit": 5},
        "invalid_name": {"max_length": len(port.person)},
        "invalid_registration": {"field": "national_id", "min_digits": 10, "max_digits": 20},
    }
    return dict(params.get(code, {}))


def _replies(engine: Engine, typed: tuple[str, ...]) -> Iterator[Reply]:
    session = Session.new("check", "+000000000000")
    yield engine.step(session, None)
    for text in typed:
        yield engine.step(session, text)


def _violations(reply: Reply, language: str, renderer: UssdRenderer) -> Iterator[Violation]:
    variants = [reply] if reply.end else [reply, replace(reply, error=True)]
    for variant in variants:
        for page in range(len(renderer.pages(variant))):
            screen = renderer.layout(replace(variant, page=page))
            if screen.natural_length > renderer.limit or screen.bad_chars:
                yield Violation(
                    reply.screen, language, page, screen.natural_length, screen.bad_chars
                )
