"""Joining recorded pieces and the sealed links to them, without a provider or a database.

Recordings here are short generated tones (the real espeak-ng renders are covered by
tests/channels/test_voice_recordings.py and tests/cli/test_ivr_cli.py).
"""

from __future__ import annotations

import io
import logging
import math
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.logs import mask
from gateway.voice import wav
from gateway.voice.audio import AUDIO_PATH, VoiceAudio
from gateway.voice.fragments import INDEX, FragmentStore, fragment_id
from gateway.voice.links import AudioLinks, Recipe
from menus.ivr import Sentence

BASE = "https://ors.example.org"
NOW = datetime(2026, 12, 8, 10, 20, tzinfo=UTC)


def tone(path: Path, seconds: float = 0.2, rate: int = 22050, channels: int = 1, width: int = 2,
         silence: float = 0.0) -> Path:  # fmt: skip
    """Write a 440 Hz tone with `silence` seconds of quiet on each side."""
    frames = bytearray()
    quiet = int(rate * silence)
    loud = int(rate * seconds)
    for i in range(quiet + loud + quiet):
        level = 0 if i < quiet or i >= quiet + loud else math.sin(i * 440 * 2 * math.pi / rate)
        if width == 2:
            sample = struct.pack("<h", int(level * 12000))
        else:
            sample = bytes([128 + int(level * 100)])
        frames += sample * channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Recordings of "Hello", "world" and "one" in English, and an index (so: recorded)."""
    lang = tmp_path / "en"
    lang.mkdir()
    for text in ("Hello", "world", "one"):
        tone(lang / f"{fragment_id(text)}.wav", silence=0.3)
    (lang / INDEX).write_text("language: en\n")
    return tmp_path


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audio(folder: Path, clock: Clock) -> VoiceAudio:
    return VoiceAudio(FragmentStore(folder), AudioLinks(b"k" * 32), BASE, clock)


SAID = [Sentence("Hello world.", ("Hello", "world")), Sentence("One.", ("one",))]


def link_of(url: str | None) -> str:
    assert url is not None and url.startswith(f"{BASE}{AUDIO_PATH}/") and url.endswith(".wav")
    return url.rsplit("/", 1)[1].removesuffix(".wav")


def test_a_recorded_prompt_is_one_file_without_the_silence_around_its_pieces(
    audio: VoiceAudio,
) -> None:
    [part] = audio.parts(SAID, "en")
    assert part.text == "Hello world. One."
    joined = audio.build(link_of(part.url))
    assert joined is not None
    # Three 0.2 s tones, each trimmed of its 0.3 s of quiet (20 ms kept at each end), one gap
    # between words and one between sentences.
    expected = 3 * 0.24 + wav.PIECE_GAP_MS / 1000 + wav.SENTENCE_GAP_MS / 1000
    assert seconds(joined) == pytest.approx(expected, abs=0.01)


def test_the_same_prompt_has_the_same_address_within_the_hour(
    audio: VoiceAudio, clock: Clock
) -> None:
    first = audio.parts(SAID, "en")[0].url
    clock.now = NOW + timedelta(minutes=30)
    assert audio.parts(SAID, "en")[0].url == first


def test_an_address_stops_working_after_the_next_hour(audio: VoiceAudio, clock: Clock) -> None:
    link = link_of(audio.parts(SAID, "en")[0].url)
    clock.now = NOW.replace(minute=59) + timedelta(hours=1)
    assert audio.build(link) is not None
    clock.now = NOW.replace(minute=0) + timedelta(hours=2)
    assert audio.build(link) is None


def test_a_forged_or_foreign_address_builds_nothing(audio: VoiceAudio, folder: Path) -> None:
    link = link_of(audio.parts(SAID, "en")[0].url)
    assert audio.build(link[:-2] + ("AA" if link[-2:] != "AA" else "BB")) is None
    assert audio.build("x" * 5000) is None
    elsewhere = VoiceAudio(FragmentStore(folder), AudioLinks(b"o" * 32), BASE, Clock())
    assert elsewhere.build(link) is None
    # A recipe naming a path instead of a piece id finds nothing.
    links = AudioLinks(b"k" * 32)
    sneaky = links.seal(Recipe("en", (("../../etc/passwd",),), "0", 10**9))
    assert audio.build(sneaky) is None


@pytest.mark.parametrize(
    "sentences",
    [
        [Sentence("Hello there.", ("Hello", "there"))],  # "there" has no recording
        [Sentence("Tuesday.", None)],  # a sentence only speech can say
    ],
)
def test_a_prompt_with_an_unrecorded_piece_is_spoken(
    audio: VoiceAudio, sentences: list[Sentence], caplog: pytest.LogCaptureFixture
) -> None:
    assert [(p.text, p.url) for p in audio.parts(sentences, "en")] == [(sentences[0].text, None)]
    assert "there" not in caplog.text  # the log counts pieces, never says them


def test_a_language_without_recordings_is_spoken(audio: VoiceAudio) -> None:
    assert audio.parts(SAID, "sw")[0].url is None


def test_a_recording_in_another_format_is_named_and_the_prompt_spoken(
    audio: VoiceAudio, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    odd = folder / "en" / f"{fragment_id('one')}.wav"
    tone(odd, rate=44100, channels=2)
    with caplog.at_level(logging.ERROR):
        [part] = audio.parts(SAID, "en")
    assert part.url is None
    assert odd.name in caplog.text and "another format" in caplog.text


def test_8_bit_gaps_are_silence_not_clicks(tmp_path: Path) -> None:
    pieces = [tone(tmp_path / f"{n}.wav", width=1) for n in "ab"]
    joined = wav.join([pieces])
    with wave.open(io.BytesIO(joined)) as audio:
        frames = audio.readframes(audio.getnframes())
    gap = frames[int(0.2 * 22050) + 100 : int(0.2 * 22050) + 400]
    assert set(gap) == {128}


def test_a_cut_off_recording_joins_whole_frames_only(tmp_path: Path) -> None:
    stereo = tone(tmp_path / "s.wav", channels=2)
    with open(stereo, "ab") as cut:  # a half frame, as a copy stopped short leaves
        cut.write(b"\x01\x02")
    _, frames = wav.read(stereo)
    assert len(frames) % 4 == 0
    joined = wav.join([[stereo, stereo]])
    assert seconds(joined) > 0.4


def test_pieces_in_different_formats_are_refused_by_name(tmp_path: Path) -> None:
    a, b = tone(tmp_path / "a.wav"), tone(tmp_path / "b.wav", rate=8000)
    with pytest.raises(wav.AudioError, match=r"b\.wav: 8000 Hz"):
        wav.join([[a, b]])


def test_audio_links_are_masked_in_logs() -> None:
    line = "GET /voice/audio/AbC-_x12.wav?x=1 and /v/aBMATN4udPR"
    assert mask(line) == "GET /voice/audio/•••.wav?x=1 and /v/•••"
