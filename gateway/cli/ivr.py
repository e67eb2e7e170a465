"""`ors ivr prompts`: every fixed sentence of the voice menus as a WAV file, with an index.

The files are a starting point: espeak-ng speaks Swahili, which neither Africa's Talking's
`<Say>` (English only) nor Twilio's voices do. A hospital replaces any file with a human
recording of the same sentence, uploads the folder to `channels.ivr.audio_base_url`/<lang>/
and pastes the index's `prompts` under `channels.ivr.prompts.<lang>` in config.yaml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click
import yaml

from menus import load_catalogues
from menus.ivr import WORDS_PER_MINUTE, IvrRenderer
from menus.prompts import prompt_catalogue
from menus.voice import load_voice_catalogues

ESPEAK = "espeak-ng"
INDEX = "index.yaml"


def register(group: click.Group) -> None:
    group.add_command(ivr)


@click.group(help="Voice menus (IVR).")
def ivr() -> None:
    pass


@ivr.command("prompts", help="Render every fixed IVR sentence of a language to WAV with espeak-ng.")
@click.option("--lang", "language", required=True, help="Language code, e.g. sw.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the WAV files and index.yaml (created if missing).",
)
@click.option("--voice", default=None, help="espeak-ng voice (default: the language code).")
def prompts(language: str, out: Path, voice: str | None) -> None:
    screens, voices = load_catalogues(), load_voice_catalogues()
    if language not in screens or language not in voices:
        known = ", ".join(sorted(screens.keys() & voices.keys()))
        raise click.ClickException(f"no catalogue for {language!r} (known: {known})")
    espeak = ensure_espeak()
    catalogue = prompt_catalogue(language, IvrRenderer(voices, screens), screens)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for key, text in catalogue.items():
        files[key] = f"{key}.wav"
        speak_to_file(espeak, voice or language, text, out / files[key])
    write_index(out / INDEX, language, voice or language, files, catalogue)
    click.echo(f"{len(files)} prompts in {out} ({language}); index: {out / INDEX}")


def ensure_espeak() -> str:
    """Return the espeak-ng executable, installing the Debian package when it is missing."""
    found = shutil.which(ESPEAK)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise click.ClickException(
            "espeak-ng is not installed and there is no apt-get here: install espeak-ng "
            "with your system's package manager, then run this again"
        )
    click.echo("espeak-ng is not installed: installing it with apt-get (Debian package espeak-ng)")
    for step in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", ESPEAK]):
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise click.ClickException(
                f"could not install espeak-ng ({' '.join(step[1:])}: {last}); "
                "run `apt-get install espeak-ng` as root, then run this again"
            )
    found = shutil.which(ESPEAK)
    if not found:
        raise click.ClickException("apt-get installed espeak-ng but it is not on the PATH")
    return found


def speak_to_file(espeak: str, voice: str, text: str, path: Path) -> None:
    """Write `text` spoken by espeak-ng to the WAV file `path`."""
    command = [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), text]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.exists():
        reason = done.stderr.strip() or f"exit status {done.returncode}"
        raise click.ClickException(f"espeak-ng could not render {path.name}: {reason}")


def write_index(
    path: Path, language: str, voice: str, files: dict[str, str], texts: dict[str, str]
) -> None:
    header = (
        f"# IVR prompts ({language}), rendered by espeak-ng (voice {voice}).\n"
        "# Replace any file with a human recording of the same sentence (see `texts`).\n"
        f"# Upload this folder to <channels.ivr.audio_base_url>/{language}/ and paste\n"
        f"# `prompts` under channels.ivr.prompts.{language} in config.yaml.\n"
    )
    data = {"language": language, "prompts": files, "texts": texts}
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")
