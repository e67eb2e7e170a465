"""`ors ivr prompts` and `ors simulate ivr`.

The simulator's HTTP requests go to the app's test client, so the hooks see exactly what the
simulated provider posts (form fields, token, Twilio signature) without a server.
"""

from __future__ import annotations

import io
import shutil
import stat
import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from click.testing import CliRunner

from gateway.app import create_app
from gateway.cli import ivr as ivr_cli
from gateway.cli import ors, voice_phone
from gateway.runtime import Runtime, build_runtime
from gateway.settings import ConfigError, Secrets, Settings, parse_settings
from gateway.voice import wav
from gateway.voice.fragments import fragment_id
from gateway.voice.render import render_pieces
from tests.conftest import service_missing

FAKE_ESPEAK = """#!/bin/sh
# Stands in for espeak-ng: writes the text it was given to the -w file.
while [ "$#" -gt 1 ]; do
  if [ "$1" = "-w" ]; then out="$2"; fi
  shift
done
printf 'RIFF %s' "$1" > "$out"
"""
AT_TOKEN, TWILIO_TOKEN, PUBLIC = "at-cli", "tw-cli", "https://ors.example.org"
CALLER = "+254700000077"


@pytest.fixture
def fake_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "espeak-ng"
    script.write_text(FAKE_ESPEAK)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return script


@pytest.fixture
def recorded(
    catalog: Runtime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """`ors` commands on the test catalogue, with a recordings folder configured."""
    folder = tmp_path / "recordings"
    configured = settings.with_overrides(ivr_recordings=folder)
    rt = build_runtime(configured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    monkeypatch.setattr("gateway.cli.context.settings", lambda: configured)
    monkeypatch.setattr("gateway.cli.context.runtime", lambda s=None: rt)
    return folder


def test_prompts_render_every_piece_and_write_an_index(fake_espeak: Path, recorded: Path) -> None:
    result = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw"])

    assert result.exit_code == 0, result.output
    folder = recorded / "sw"
    index = yaml.safe_load((folder / "index.yaml").read_text())
    assert index["language"] == "sw" and index["voice"] == "sw"
    words = set(index["pieces"].values())
    # Wordings for the ear, Swahili numbers, days and times, and the catalogue's names.
    assert {"Kuweka miadi, bonyeza", "Asante kwa kupiga simu. Kwaheri"} <= words
    assert {"ishirini na tatu", "Jumanne", "tarehe nane", "saa nne", "na nusu"} <= words
    assert "Kenyatta National Hospital" in words
    for file_id, text in index["pieces"].items():
        assert (folder / f"{file_id}.wav").read_text() == f"RIFF {text}"
    assert f"{len(words)} pieces of speech" in result.output and "rendered now" in result.output


def test_a_second_run_keeps_every_recording_unless_asked(fake_espeak: Path, recorded: Path) -> None:
    assert CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw"]).exit_code == 0
    folder = recorded / "sw"
    [first, *_] = yaml.safe_load((folder / "index.yaml").read_text())["pieces"]
    (folder / f"{first}.wav").write_text("a human recording")

    again = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw"])
    assert "0 rendered now" in again.output
    assert (folder / f"{first}.wav").read_text() == "a human recording"

    replaced = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw", "--replace"])
    assert replaced.exit_code == 0 and "0 kept as they were" in replaced.output
    assert (folder / f"{first}.wav").read_text().startswith("RIFF ")


def test_without_a_recordings_folder_the_message_says_what_to_set(
    fake_espeak: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.cli.context.settings", lambda: settings)
    result = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw"])
    assert result.exit_code != 0
    assert "set channels.ivr.recordings in config.yaml or pass --out" in result.output


def test_an_unknown_language_is_refused(fake_espeak: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "fr", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "no catalogue for 'fr' (known: en, sw)" in result.output


def test_without_espeak_or_apt_get_the_message_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ivr_cli.shutil, "which", lambda name: None)
    with pytest.raises(click.ClickException) as stopped:
        ivr_cli.ensure_espeak()
    assert "espeak-ng is not installed" in stopped.value.message


def test_real_espeak_writes_pieces_that_join(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        service_missing("espeak-ng: apt-get install -y espeak-ng")
    done = render_pieces(espeak, tmp_path / "sw", "sw", "sw", ["Asante", "Kwaheri"])
    assert (done.pieces, done.made, done.kept) == (2, 2, 0)
    paths = [tmp_path / "sw" / f"{fragment_id(t)}.wav" for t in ("Asante", "Kwaheri")]
    joined = wav.join([paths[:1], paths[1:]])
    with wave.open(io.BytesIO(joined)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    # Both words and the pause between sentences, without the silence espeak-ng leaves around.
    alone = 0.0
    for path in paths:
        with wave.open(str(path)) as piece:
            alone += piece.getnframes() / piece.getframerate()
    assert 0.5 < seconds < alone + wav.SENTENCE_GAP_MS / 1000


# --- ors simulate ivr -------------------------------------------------------------------------


@pytest.fixture
def hooked(
    catalog: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> tuple[Runtime, list[dict[str, Any]]]:
    """Route the simulator's requests into the app; record what it posted."""
    secured = settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(at_webhook_token=AT_TOKEN, twilio_auth_token=TWILIO_TOKEN),
    )
    rt = build_runtime(secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    client = create_app(runtime=rt).test_client()
    posted: list[dict[str, Any]] = []

    def post(url: str, data: dict[str, str], headers: dict[str, str], timeout: float) -> Any:
        parts = urlsplit(url)
        posted.append({"url": url, "form": dict(data), "headers": dict(headers)})
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, data=data, headers=headers)
        return SimpleNamespace(status_code=response.status_code, text=response.get_data(True))

    monkeypatch.setattr(voice_phone.requests, "post", post)
    monkeypatch.setattr("gateway.cli.context.settings", lambda: secured)
    return rt, posted


@pytest.mark.parametrize("provider", ["at", "twilio"])
def test_simulate_ivr_books_with_scripted_keys(
    hooked: tuple[Runtime, list[dict[str, Any]]], provider: str
) -> None:
    rt, posted = hooked
    url = f"http://127.0.0.1:5000/hooks/{'at' if provider == 'at' else 'twilio'}/voice"
    keys = "1,2,,1,1,1,1,1"  # the empty one is silence
    args = ["simulate", "ivr", "--phone", CALLER, "--provider", provider, "--url", url]

    result = CliRunner().invoke(ors, [*args, "--input", keys])

    assert result.exit_code == 0, result.output
    # The panels wrap long sentences: read the words, not the layout.
    said = " ".join(result.output.replace("│", " ").split())
    assert "Sorry, we did not hear a key." in said
    assert "Booked!" in said and "Your T-code is " in said
    assert "(call ended)" in result.output
    assert len(rt.booking.upcoming(CALLER)) == 1
    first, last = posted[0]["form"], posted[-1]["form"]
    if provider == "at":
        assert set(first) == {
            "isActive",
            "sessionId",
            "callerNumber",
            "destinationNumber",
            "direction",
        }
        assert last["isActive"] == "0"  # the final notice
        assert all(f"token={AT_TOKEN}" in p["url"] for p in posted)
    else:
        assert {"CallSid", "AccountSid", "From", "To", "CallStatus", "Direction"} <= set(first)
        assert last["CallStatus"] == "completed" and posted[-1]["url"].endswith("/voice/status")
        assert all("X-Twilio-Signature" in p["headers"] for p in posted)


@pytest.mark.parametrize(
    "ivr",
    [{"audio_base_url": "https://cdn.example.org/ivr"}, {"prompts": {"sw": {"a": "a.wav"}}}],
)
def test_the_replaced_prompt_settings_say_what_replaced_them(
    ivr: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_settings({"channels": {"ivr": ivr}}, {}, base_dir=tmp_path)
    assert "replaced by channels.ivr.recordings" in str(refused.value)


def test_the_recordings_folder_is_read_beside_the_config(tmp_path: Path) -> None:
    raw = {"channels": {"ivr": {"recordings": "voice"}}}
    assert parse_settings(raw, {}, base_dir=tmp_path).ivr_recordings == tmp_path / "voice"
    assert parse_settings({}, {}, base_dir=tmp_path).ivr_recordings is None


def test_loading_a_catalogue_renders_the_pieces_of_new_names(
    fake_espeak: Path, recorded: Path, tmp_path: Path
) -> None:
    assert CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw"]).exit_code == 0
    source = (Path(__file__).parents[1] / "data" / "catalog.yaml").read_text(encoding="utf-8")
    grown = tmp_path / "catalog.yaml"
    grown.write_text(source.replace("name: Dermatology", "name: Skin and Hair Clinic"))

    result = CliRunner().invoke(ors, ["catalog", "load", str(grown)])

    assert result.exit_code == 0, result.output
    assert "voice pieces in sw: 1 new rendered (names added)" in result.output
    words = yaml.safe_load((recorded / "sw" / "index.yaml").read_text())["pieces"].values()
    assert "Skin and Hair Clinic" in words
