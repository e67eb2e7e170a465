"""`ors ivr prompts`: every piece of speech the voice menus say in a language, as WAV files.

A voice call in a language with recordings hears each prompt joined from these pieces
(gateway.voice), because neither Africa's Talking's `<Say>` (English only) nor Twilio's voices
speak Swahili. espeak-ng renders them as a start; a hospital replaces any file with a human
recording of the same words (index.yaml says which), and running this again after new names
were added renders only what is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click

from gateway.cli import context
from gateway.voice.names import spoken_names
from gateway.voice.render import RenderError, render_pieces
from menus import load_catalogues
from menus.ivr import IvrRenderer
from menus.prompts import fragment_catalogue
from menus.voice import load_voice_catalogues

ESPEAK = "espeak-ng"


def register(group: click.Group) -> None:
    group.add_command(ivr)


@click.group(help="Voice menus (IVR).")
def ivr() -> None:
    pass


@ivr.command("prompts", help="Render every piece of speech of a language to WAV with espeak-ng.")
@click.option("--lang", "language", required=True, help="Language code, e.g. sw.")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Recordings folder (default: channels.ivr.recordings); files go to OUT/<lang>/.",
)
@click.option("--voice", default=None, help="espeak-ng voice (default: the language code).")
@click.option("--replace", is_flag=True, help="Render every piece again, recordings included.")
def prompts(language: str, out: Path | None, voice: str | None, replace: bool) -> None:
    settings = context.settings()
    folder = out or settings.ivr_recordings
    if folder is None:
        raise click.ClickException(
            "no recordings folder: set channels.ivr.recordings in config.yaml or pass --out"
        )
    screens, voices = load_catalogues(), load_voice_catalogues()
    renderer = IvrRenderer(voices, screens)
    if language not in screens or language not in voices:
        known = ", ".join(sorted(screens.keys() & voices.keys()))
        raise click.ClickException(f"no catalogue for {language!r} (known: {known})")
    names = spoken_names(context.runtime(settings).booking, language)
    pieces = fragment_catalogue(language, renderer, names, settings.ussd_service_code)
    if not pieces:
        raise click.ClickException(
            f"{language!r} has no spoken numbers, days and times (menus/speech): its calls "
            "can only use the provider's text to speech"
        )
    try:
        done = render_pieces(
            ensure_espeak(), folder / language, language, voice or language, pieces, replace=replace
        )
    except RenderError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{done.pieces} pieces of speech in {folder / language}: {done.made} rendered now, "
        f"{done.kept} kept as they were"
    )


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
