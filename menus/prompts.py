"""Recorded prompts: which fixed sentences exist, and which recording replaces each one.

Every sentence that is the same on every call has a prompt key. `prompt_catalogue` lists
them all for one language, so a tool can render them (espeak-ng) and a hospital can replace
any file with a human recording. `AudioPrompts` maps keys to recordings under a base URL;
`parts` turns a turn's sentences into what a provider plays: a recording where there is one,
text to speech for the rest (neighbouring spoken sentences joined into one).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer, Sentence
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


@dataclass(frozen=True)
class Part:
    text: str  # what is said, or the transcript of the recording
    url: str | None = None  # the recording to play instead of speaking `text`


@dataclass(frozen=True)
class AudioPrompts:
    """Recordings under `base_url`/<language>/<file>; none configured means speech only."""

    base_url: str = ""
    files: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # language -> key -> file

    def url(self, language: str, key: str | None) -> str | None:
        name = self.files.get(language, {}).get(key or "") if self.base_url else None
        return f"{self.base_url.rstrip('/')}/{quote(language)}/{quote(name)}" if name else None

    def parts(self, sentences: Iterable[Sentence], language: str) -> list[Part]:
        """Return recordings and spoken text in order, joining neighbouring spoken sentences."""
        out: list[Part] = []
        for sentence in sentences:
            url = self.url(language, sentence.key)
            if url is None and out and out[-1].url is None:
                out[-1] = Part(f"{out[-1].text} {sentence.text}")
            else:
                out.append(Part(sentence.text, url))
        return out


def prompt_catalogue(
    language: str, renderer: IvrRenderer, screens: Mapping[str, Catalogue]
) -> dict[str, str]:
    """Return every fixed sentence the IVR may say in `language`, by prompt key, sorted."""
    voice = renderer.voice(language)
    found = {f"voice.{key}": text for key, text in voice.fixed().items()}
    found.update(renderer.fixed_sentences(language))
    for sentence in _walk(language, renderer, screens):
        if sentence.key is not None:
            found.setdefault(sentence.key, sentence.text)
    return dict(sorted(found.items()))


def _walk(
    language: str, renderer: IvrRenderer, screens: Mapping[str, Catalogue]
) -> Iterator[Sentence]:
    config = EngineConfig(shortcode="*0#", default_language=language, channel="ivr")
    for fields, keys in _WALKS:
        moment = longest_moment(screens[language])
        port = SpecimenPort("Nairobi", "Hospital", "Clinic", language, moment)
        for name, value in fields.items():
            setattr(port, name, value)
        engine = Engine(port, screens, config, keypad=renderer)
        session = Session.new("prompts", "+000000000000")
        yield from renderer.render(engine.step(session, None), language)
        for key in keys:
            yield from renderer.render(engine.step(session, key), language)
