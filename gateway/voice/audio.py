"""What a provider plays for a turn: one joined recording when every piece has one, else text.

`parts` is what the voice hooks call for each stretch of a turn (the hint, the prompt inside
GetDigits, the fallback): one `Part` with the address of the joined file, or one `Part` of
text for the provider's speech when the language has no recordings or a piece lacks one
(said in the log, without the words: a piece may be a T-code digit). `build` makes the file
behind an address; joined files are kept in memory by content, up to a bound.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from gateway.voice.fragments import FragmentStore, fragment_id
from gateway.voice.links import AudioLinks, Recipe
from gateway.voice.wav import Format, join
from menus.ivr import Sentence
from menus.prompts import Part

log = logging.getLogger(__name__)
AUDIO_PATH = "/voice/audio"
CACHE_BYTES = 64 * 1024 * 1024  # joined prompts kept per process (a menu is ~0.5 MB)


class VoiceAudio:
    def __init__(
        self,
        store: FragmentStore,
        links: AudioLinks,
        base_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.links, self.clock = store, links, clock
        self.base_url = base_url.rstrip("/")
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def parts(self, sentences: Sequence[Sentence], language: str) -> list[Part]:
        """Return what to play for `sentences`: one recording, or one text to speak."""
        if not sentences:
            return []
        text = " ".join(s.text for s in sentences)
        recipe = self._recipe(sentences, language)
        if recipe is None:
            return [Part(text)]
        return [Part(text, f"{self.base_url}{AUDIO_PATH}/{self.links.seal(recipe)}.wav")]

    def build(self, link: str) -> bytes | None:
        """Return the joined WAV behind an address made here, or None (unknown or gone)."""
        recipe = self.links.open(link)
        if recipe is None or recipe.until_hour < _hour(self.clock()):
            return None
        paths = [[self.store.path(recipe.language, p) for p in s] for s in recipe.sentences]
        if any(path is None for sentence in paths for path in sentence):
            return None  # a recording was removed since the turn named it
        found = [[path for path in sentence if path is not None] for sentence in paths]
        key = self._content_key(found)
        with self._lock:
            if (hit := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return hit
        joined = join(found)
        self._keep(key, joined)
        return joined

    def _recipe(self, sentences: Sequence[Sentence], language: str) -> Recipe | None:
        if not self.store.recorded(language):
            return None
        ids: list[tuple[str, ...]] = []
        paths: list[list[Path]] = []
        missing = 0
        for sentence in sentences:
            if sentence.pieces is None:
                missing += 1
                continue
            found = tuple(fragment_id(p) for p in sentence.pieces)
            located = [self.store.path(language, f) for f in found]
            missing += sum(path is None for path in located)
            ids.append(found)
            paths.append([path for path in located if path is not None])
        if missing:
            log.warning(
                "voice prompt in %s said by text to speech: %d piece(s) have no recording "
                "(run `ors ivr prompts --lang %s`)",
                language,
                missing,
                language,
            )
            return None
        if odd := self._odd_files(paths):
            # Files that cannot be joined with the rest: said by speech rather than silence.
            log.error(
                "voice prompt in %s said by text to speech: recordings in another format (%s); "
                "convert them to the format of the others",
                language,
                ", ".join(odd[:5]),
            )
            return None
        until = _hour(self.clock()) + 1
        return Recipe(language, tuple(ids), self._content_key(paths)[:16], until)

    def _odd_files(self, paths: Sequence[Sequence[Path]]) -> list[str]:
        """Name the recordings that are unreadable or not in the format most of them share."""
        found = [(path, self.store.format(path)) for sentence in paths for path in sentence]
        usual = Counter(f for _, f in found if f is not None).most_common(1)
        expected: Format | None = usual[0][0] if usual else None
        return sorted({path.name for path, f in found if f is None or f != expected})

    def _content_key(self, paths: Sequence[Sequence[Path]]) -> str:
        digest = hashlib.sha256()
        for sentence in paths:
            digest.update(b"|")
            for path in sentence:
                digest.update(self.store.digest(path).encode("ascii"))
        return digest.hexdigest()

    def _keep(self, key: str, joined: bytes) -> None:
        if len(joined) > CACHE_BYTES:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = joined
            self._cached_bytes += len(joined)
            while self._cached_bytes > CACHE_BYTES:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= len(dropped)


def _hour(moment: datetime) -> int:
    return int(moment.timestamp()) // 3600
