"""Voice catalogues: what an IVR says around the screens' own texts, one YAML file per language.

The screens' titles, options and notices come from the message catalogues (`menus/catalogues`);
these files hold only the spoken frame ("For {label}, press {key}.", hints, goodbye). The loader
refuses a file that misses a key, has an extra one or changes a {placeholder}.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from menus.catalogue import read_checked

VOICE_DIR = Path(__file__).with_name("catalogues") / "voice"


@dataclass(frozen=True)
class VoiceCatalogue:
    language: str
    texts: Mapping[str, str]

    def text(self, name: str, /, **params: Any) -> str:
        # Positional-only: the option frame has a {key} placeholder of its own.
        return self.texts[name].format(**params)

    def screen(self, key: str) -> str | None:
        """Return the spoken wording of a screen text, when it needs one for the ear."""
        return self.texts.get(f"screens.{key}")

    def option(self, key: str) -> str | None:
        """Return a whole option sentence ("To book an appointment, press {key}.") if any."""
        return self.texts.get(f"options.{key}")

    def fixed(self) -> dict[str, str]:
        """Return the texts without placeholders: the ones a person can record once."""
        return {k: v for k, v in self.texts.items() if not _placeholders(v)}


def load_voice_catalogues(directory: Path = VOICE_DIR) -> dict[str, VoiceCatalogue]:
    """Load every `<code>.yaml` of `directory`, English first; raise CatalogueError if any is bad."""
    return {
        code: VoiceCatalogue(code, texts)
        for code, texts in read_checked(directory, "voice/").items()
    }


def _placeholders(text: str) -> list[str]:
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None})
