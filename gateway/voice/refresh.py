"""After the catalogue changes: record the new names' pieces for every recorded language.

A call must never fall back to text to speech because a department was added after the
recordings were made, so loading a catalogue renders what is missing (espeak-ng; recordings
already there are kept). Where espeak-ng is not installed it says what to run instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gateway.runtime import Runtime
from gateway.voice.fragments import INDEX
from gateway.voice.names import spoken_names
from gateway.voice.render import RenderError, render_pieces
from menus.prompts import fragment_catalogue

ESPEAK = "espeak-ng"


def refresh_recordings(rt: Runtime) -> list[str]:
    """Render the pieces each recorded language lacks; return one line per language."""
    store, settings = rt.ivr.audio.store, rt.settings
    renderer = rt.ivr.renderer
    recorded = [code for code in renderer.languages() if store.recorded(code)]
    if not recorded:
        return []
    espeak = shutil.which(ESPEAK)
    lines = []
    for language in recorded:
        folder = store.folder(language)
        assert folder is not None  # recorded() found its index there
        names = spoken_names(rt.booking, language)
        pieces = fragment_catalogue(language, renderer, names, settings.ussd_service_code)
        if espeak is None:
            lines.append(
                f"voice pieces in {language} may lack the new names: espeak-ng is not installed "
                f"here; run `ors ivr prompts --lang {language}` where it is"
            )
            continue
        try:
            done = render_pieces(espeak, folder, language, _voice(folder, language), pieces)
        except RenderError as error:
            lines.append(f"voice pieces in {language}: {error}")
            continue
        if done.made:
            lines.append(f"voice pieces in {language}: {done.made} new rendered (names added)")
    return lines


def _voice(folder: Path, language: str) -> str:
    """The espeak-ng voice the folder was rendered with (its index says), so new pieces match."""
    try:
        found = yaml.safe_load((folder / INDEX).read_text(encoding="utf-8")).get("voice")
    except (OSError, yaml.YAMLError, AttributeError):
        return language
    return found if isinstance(found, str) and found else language
