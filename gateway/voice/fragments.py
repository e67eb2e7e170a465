"""Recorded pieces on disk: `<recordings>/<language>/<id>.wav`, one file per piece of speech.

A piece's file name comes from its words (`fragment_id`), so a call finds its recording
without an index, every web machine with the same folder finds the same files, and
`ors ivr prompts` can add the pieces a new name needs without touching a human recording
already there. `index.yaml` in each language's folder says which words each file holds,
for the person recording them; its presence is what switches a language to recordings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from gateway.voice.wav import AudioError, Format, read_format

INDEX = "index.yaml"
_ID = re.compile(r"[0-9a-f]{12}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


def fragment_id(text: str) -> str:
    """Return the file name stem of a piece: the same for the same words, any case or spacing."""
    words = " ".join(text.split()).casefold()
    return hashlib.sha1(words.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def is_fragment_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


@dataclass
class FragmentStore:
    """The recordings folder; `root` None: no recordings anywhere."""

    root: Path | None
    # path -> (mtime_ns, size, sha256, format or None): a file is read again only when it changes.
    _known: dict[Path, tuple[int, int, str, Format | None]] = field(default_factory=dict)

    def recorded(self, language: str) -> bool:
        """True when `language` has a rendered or recorded set (its index exists)."""
        folder = self.folder(language)
        return folder is not None and (folder / INDEX).is_file()

    def folder(self, language: str) -> Path | None:
        if self.root is None or not _LANGUAGE.fullmatch(language):
            return None
        return self.root / language

    def path(self, language: str, fragment: str) -> Path | None:
        """Return the recording of a piece (by id), or None when there is none."""
        folder = self.folder(language)
        if folder is None or not is_fragment_id(fragment):
            return None
        found = folder / f"{fragment}.wav"
        return found if found.is_file() else None

    def digest(self, path: Path) -> str:
        """Return the SHA-256 of a recording's bytes (cached while the file is unchanged)."""
        return self._read(path)[0]

    def format(self, path: Path) -> Format | None:
        """Return a recording's audio format, None when it cannot be joined (say, not WAV)."""
        return self._read(path)[1]

    def _read(self, path: Path) -> tuple[str, Format | None]:
        stat = path.stat()
        cached = self._known.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2], cached[3]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            found: Format | None = read_format(path)
        except AudioError:
            found = None
        self._known[path] = (stat.st_mtime_ns, stat.st_size, digest, found)
        return digest, found
