"""Every piece a voice menu can say in one language, so each can be recorded ahead of a call.

A voice prompt is joined from recorded pieces (menus.saying): the literal words of every screen
text and voice wording, the language's numbers, days, months and times (menus.speech), and
the names the core gives (cities, hospitals, departments), which the caller passes in.
`fragment_catalogue` lists them all; `ors ivr prompts` renders each with espeak-ng, and a
hospital may replace any file with a human recording. A walk through the menus with the
specimen core checks the list: every piece a real call says must be in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer, Sentence
from menus.saying import piece, template_pieces
from menus.session import Session
from menus.specimen import SpecimenPort, longest_moment

# Walks through the menus that reach every option with a fixed label (main menu, resume,
# who it is for, confirm, cancel, language), each with the specimen core's fields it
# changes; the specimen core answers every question.
_WALKS: tuple[tuple[dict[str, object], tuple[str, ...]], ...] = (
    ({}, ("1",) * 7),  # book down to the booked screen
    ({"with_hold": True}, ("2",)),  # a held place: continue or start again
    # my appointments > details > a code by SMS > the code > cancel? > yes
    ({}, ("2", "1", "1", "1234", "1", "1")),
    ({}, ("2", "1", "2")),  # my appointments > details > type the T-code
    ({}, ("3",)),  # language
    ({"dependants": 2}, ("1",)),  # who is it for? "Me" or a dependant
)
# Said by the specimen core's names: walks check the wordings, not these.
SPECIMEN_NAMES = ("Nairobi", "Hospital", "Clinic")


@dataclass(frozen=True)
class Part:
    text: str  # what is said, or the transcript of the recording
    url: str | None = None  # the recording to play instead of speaking `text`


def fragment_catalogue(
    language: str, renderer: IvrRenderer, names: Iterable[str] = (), shortcode: str = ""
) -> list[str]:
    """Return every piece the voice menus may say in `language`, sorted; empty when the
    language has no `Speech` (its prompts are only ever spoken by text to speech)."""
    sayer = renderer.sayer(language)
    if sayer.speech is None or sayer.screens.language != language:
        return []
    found: set[str] = set()
    for key, text in sayer.screens.texts.items():
        if not key.startswith("calendar."):
            found.update(template_pieces(text))
    for text in sayer.voice.texts.values():
        found.update(template_pieces(text))
    found.update(sayer.speech.vocabulary())
    found.update(piece(name) for name in names)
    # The language menu names every language in its own words.
    found.update(piece(renderer.sayer(code).screens.name) for code in renderer.languages())
    found.update(piece(c) for c in [shortcode] if c and not set(c) <= set("0123456789*#"))
    found.discard("")
    return sorted(found, key=lambda text: (text.casefold(), text))


def walk_pieces(
    language: str, renderer: IvrRenderer, screens: Mapping[str, Catalogue]
) -> Iterator[tuple[str, ...] | None]:
    """Yield the pieces of every sentence a walk through the menus says (a check of the list)."""
    for sentence in _walk(language, renderer, screens):
        yield sentence.pieces


def _walk(
    language: str, renderer: IvrRenderer, screens: Mapping[str, Catalogue]
) -> Iterator[Sentence]:
    config = EngineConfig(shortcode="*0#", default_language=language, channel="ivr")
    for fields, keys in _WALKS:
        moment = longest_moment(screens[language])
        port = SpecimenPort(*SPECIMEN_NAMES, language, moment)
        for name, value in fields.items():
            setattr(port, name, value)
        engine = Engine(port, screens, config, keypad=renderer)
        session = Session.new("prompts", "+000000000000")
        yield from renderer.render(engine.step(session, None), language)
        for key in keys:
            yield from renderer.render(engine.step(session, key), language)
