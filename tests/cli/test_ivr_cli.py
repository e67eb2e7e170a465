"""`ors ivr prompts` and `ors simulate ivr`.

The simulator's HTTP requests go to the app's test client, so the hooks see exactly what the
simulated provider posts (form fields, token, Twilio signature) without a server.
"""

from __future__ import annotations

import shutil
import stat
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


def test_prompts_render_every_key_and_write_an_index(fake_espeak: Path, tmp_path: Path) -> None:
    out = tmp_path / "sw"
    result = CliRunner().invoke(ors, ["ivr", "prompts", "--lang", "sw", "--out", str(out)])

    assert result.exit_code == 0, result.output
    index = yaml.safe_load((out / "index.yaml").read_text())
    assert index["language"] == "sw"
    assert index["texts"]["option.main.book.1"] == "Kwa Weka miadi, bonyeza 1."
    assert index["texts"]["voice.end.goodbye"] == "Asante kwa kupiga simu. Kwaheri."
    for key, name in index["prompts"].items():
        assert (out / name).read_text() == f"RIFF {index['texts'][key]}"
    # The index's mapping is what config.yaml takes.
    raw = {"channels": {"ivr": {"audio_base_url": PUBLIC, "prompts": {"sw": index["prompts"]}}}}
    settings = parse_settings(raw, {}, base_dir=tmp_path)
    assert settings.ivr_prompts["sw"]["option.main.book.1"] == "option.main.book.1.wav"


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


def test_real_espeak_writes_a_wav(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        service_missing("espeak-ng: apt-get install -y espeak-ng")
    path = tmp_path / "goodbye.wav"
    ivr_cli.speak_to_file(shutil.which("espeak-ng") or "", "sw", "Asante. Kwaheri.", path)
    assert path.read_bytes()[:4] == b"RIFF" and path.stat().st_size > 1000


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
    assert "Sorry, we did not hear a key." in result.output
    assert "Booked!" in result.output and "T-code: " in result.output
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
    ("ivr", "named"),
    [
        ({"audio_base_url": "ftp://x"}, "channels.ivr.audio_base_url"),
        ({"prompts": {"sw": ["a.wav"]}}, "channels.ivr.prompts.sw"),
        ({"prompts": {"sw": {"voice.end.goodbye": ""}}}, "channels.ivr.prompts.sw.voice.end"),
    ],
)
def test_bad_prompt_settings_name_the_setting(
    ivr: dict[str, Any], named: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_settings({"channels": {"ivr": ivr}}, {}, base_dir=tmp_path)
    assert str(refused.value).startswith(named)
