"""The address of a joined prompt: which pieces, sealed so nobody can read or forge it.

The address carries its own recipe (language and piece ids), so any web machine can build
the file on a cache miss: nothing is kept between the turn that names it and the request
that fetches it. It is sealed with AES-SIV, deterministic authenticated encryption: the same
prompt gets the same address within an hour (a provider may cache it), a T-code's digits
never show in an access log, and an address not made here is refused. It stops working after
the next hour (a played T-code must not stay a bearer key), and it includes a digest of the
recordings' bytes, so a replaced recording gives the prompt a new address.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_LINK = 4096  # characters: far above any prompt, far below what a URL may carry


@dataclass(frozen=True)
class Recipe:
    language: str
    sentences: tuple[tuple[str, ...], ...]  # piece ids, sentence by sentence
    digest: str  # of the recordings' bytes, shortened
    # The last hour (since the epoch) the link is good for: a prompt may say a T-code, so its
    # address must not work for ever, yet stays the same within an hour for caches.
    until_hour: int


class AudioLinks:
    def __init__(self, secret: bytes) -> None:
        """`secret`: key material every web process shares (gateway.conversations)."""
        if len(secret) < 16:
            raise ValueError("audio links need at least 16 bytes of shared secret")
        key = HKDF(hashes.SHA256(), 64, salt=None, info=b"ors voice audio links").derive(secret)
        self._seal = AESSIV(key)

    def seal(self, recipe: Recipe) -> str:
        data = {
            "l": recipe.language,
            "s": [list(s) for s in recipe.sentences],
            "d": recipe.digest,
            "u": recipe.until_hour,
        }
        packed = zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"), 9)
        sealed = self._seal.encrypt(packed, None)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, link: str) -> Recipe | None:
        """Return the recipe of a link made here, else None."""
        if not link or len(link) > MAX_LINK:
            return None
        try:
            sealed = base64.urlsafe_b64decode(link + "=" * (-len(link) % 4))
            data: Any = json.loads(zlib.decompress(self._seal.decrypt(sealed, None)))
            sentences = tuple(tuple(str(p) for p in s) for s in data["s"])
            return Recipe(str(data["l"]), sentences, str(data["d"]), int(data["u"]))
        except (InvalidTag, binascii.Error, ValueError, zlib.error, KeyError, TypeError):
            return None
