"""Render pieces of speech to WAV with espeak-ng, keeping every file already there.

A file present is a recording someone made (or a rendering they accepted): it is never
overwritten unless asked. So rendering after a catalogue change only adds the pieces a new
name needs, and `index.yaml` always lists every piece with its words for whoever records.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.voice.fragments import INDEX, fragment_id

# A little quicker than the 150 words a minute the page budget (menus.ivr) assumes: words
# in Swahili are longer than in English, and every page must stay under 40 seconds.
WORDS_PER_MINUTE = 170
_WORKERS = 4


class RenderError(RuntimeError):
    """espeak-ng failed on a piece."""


@dataclass(frozen=True)
class Rendered:
    pieces: int  # in the index
    made: int  # rendered now
    kept: int  # already there (recorded or rendered before)


def render_pieces(
    espeak: str,
    folder: Path,
    language: str,
    voice: str,
    pieces: Iterable[str],
    *,
    replace: bool = False,
) -> Rendered:
    """Render every piece missing from `folder` (all of them with `replace`) and write the
    index; raise RenderError naming the first piece espeak-ng could not say."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"could not make {folder}: {exc}") from exc
    wanted = {fragment_id(text): text for text in pieces}
    todo = [(f, t) for f, t in wanted.items() if replace or not (folder / f"{f}.wav").is_file()]
    with ThreadPoolExecutor(_WORKERS) as pool:
        failures = [
            error
            for error in pool.map(
                lambda job: _speak(espeak, voice, job[1], folder / f"{job[0]}.wav"), todo
            )
            if error
        ]
    if failures:
        raise RenderError(failures[0])
    try:
        _write_index(folder / INDEX, language, voice, wanted)
    except OSError as exc:
        raise RenderError(f"could not write {folder / INDEX}: {exc}") from exc
    return Rendered(len(wanted), len(todo), len(wanted) - len(todo))


def _speak(espeak: str, voice: str, text: str, path: Path) -> str | None:
    partial = path.with_suffix(".part")
    command = [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(partial), text]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"espeak-ng could not say {text!r}: {exc}"
    if done.returncode != 0 or not partial.is_file():
        reason = done.stderr.strip() or f"exit status {done.returncode}"
        return f"espeak-ng could not say {text!r}: {reason}"
    partial.replace(path)  # a half-written file never looks like a recording
    return None


def _write_index(path: Path, language: str, voice: str, wanted: dict[str, str]) -> None:
    header = (
        f"# Pieces of speech for voice calls in {language}: file name (without .wav) and words.\n"
        f"# Rendered by espeak-ng (voice {voice}); replace any file with a human recording of\n"
        "# the same words: mono PCM WAV in the same format as the others (22050 Hz, 16-bit).\n"
        "# `ors ivr prompts` adds pieces for new names and never overwrites a file.\n"
    )
    ordered = dict(sorted(wanted.items(), key=lambda item: (item[1].casefold(), item[0])))
    body = yaml.safe_dump(
        {"language": language, "voice": voice, "pieces": ordered},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    path.write_text(header + body, encoding="utf-8")
