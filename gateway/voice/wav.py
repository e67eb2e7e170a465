"""Join WAV recordings into one, with short silences between pieces and longer ones between
sentences. Every piece must share one format (espeak-ng writes 22050 Hz mono 16-bit); a
human recording in another format is refused by name, so nobody hears a garbled prompt."""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PIECE_GAP_MS = 60  # between the pieces of one sentence: words, not a pause
# Quieter than this (in 16-bit sample units) counts as silence at a piece's ends: renderers
# and people leave half a second around each recording, which joined pieces must not keep.
SILENCE_LEVEL = 300
EDGE_MS = 20  # kept of the silence at each end, so a word's first breath is not cut
SENTENCE_GAP_MS = 350  # between sentences: the pause a speaker makes at a full stop


class AudioError(ValueError):
    """A recording cannot be read or does not match the others' format."""


@dataclass(frozen=True)
class Format:
    channels: int
    width: int  # bytes per sample
    rate: int

    def silence(self, milliseconds: int) -> bytes:
        frames = self.rate * milliseconds // 1000
        # 8-bit WAV is unsigned: its silence is the middle value, not zero (a click).
        quiet = b"\x80" if self.width == 1 else b"\x00"
        return quiet * frames * self.channels * self.width

    def describe(self) -> str:
        return f"{self.rate} Hz, {self.channels} channel(s), {8 * self.width}-bit"


def read(path: Path) -> tuple[Format, bytes]:
    """Return a WAV file's format and its whole sample frames (a cut-off last frame is
    dropped: kept, it would swap the channels of everything joined after it)."""
    found = read_format(path)
    try:
        with wave.open(str(path), "rb") as audio:
            frames = audio.readframes(audio.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path.name}: not a readable PCM WAV file ({exc})") from exc
    step = found.channels * found.width
    return found, frames[: len(frames) - len(frames) % step]


def read_format(path: Path) -> Format:
    """Return a WAV file's format; raise AudioError when it is not PCM WAV that can be joined."""
    try:
        with wave.open(str(path), "rb") as audio:
            found = Format(audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path.name}: not a readable PCM WAV file ({exc})") from exc
    if found.width not in (1, 2) or found.channels not in (1, 2) or found.rate <= 0:
        raise AudioError(f"{path.name}: {found.describe()} cannot be joined (8/16-bit PCM only)")
    return found


def join(sentences: Sequence[Sequence[Path]]) -> bytes:
    """Return one WAV file of the pieces, sentence by sentence."""
    fmt: Format | None = None
    out = bytearray()
    for s, pieces in enumerate(sentences):
        for p, path in enumerate(pieces):
            found, frames = read(path)
            if fmt is None:
                fmt = found
            elif found != fmt:
                raise AudioError(
                    f"{path.name}: {found.describe()}, but the other pieces are "
                    f"{fmt.describe()}; convert it (e.g. sox IN -r {fmt.rate} "
                    f"-c {fmt.channels} -b {8 * fmt.width} OUT)"
                )
            if p:
                out += fmt.silence(PIECE_GAP_MS)
            elif s:
                out += fmt.silence(SENTENCE_GAP_MS)
            out += _trimmed(frames, fmt)
    if fmt is None:
        raise AudioError("nothing to join")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as joined:
        joined.setnchannels(fmt.channels)
        joined.setsampwidth(fmt.width)
        joined.setframerate(fmt.rate)
        joined.writeframes(bytes(out))
    return buffer.getvalue()


def _trimmed(frames: bytes, fmt: Format) -> bytes:
    """Return `frames` without the silence at either end (16-bit audio only; others as they are).
    Only the quiet ends are scanned, so a long recording costs no more than a short one."""
    if fmt.width != 2 or not frames:
        return frames
    samples = memoryview(frames).cast("h")
    size = len(samples)
    first = 0
    while first < size and abs(samples[first]) <= SILENCE_LEVEL:
        first += 1
    if first == size:
        return frames
    last = size - 1
    while abs(samples[last]) <= SILENCE_LEVEL:
        last -= 1
    margin = fmt.rate * EDGE_MS // 1000 * fmt.channels
    # Whole frames only: a cut inside a frame would swap the channels of everything after it.
    start = (max(first - margin, 0) // fmt.channels) * fmt.channels
    stop = min((last // fmt.channels + 1) * fmt.channels + margin, size)
    return frames[start * fmt.width : stop * fmt.width]
