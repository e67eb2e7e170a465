"""Sealing what must be read back (TOTP secrets) and hashing what need not (tokens, codes)."""

from __future__ import annotations

import hashlib
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class Sealer:
    """AES-GCM with a key every web process derives alike from the gateway's shared secret."""

    def __init__(self, shared: bytes) -> None:
        key = HKDF(hashes.SHA256(), 32, salt=None, info=b"ors staff second factors").derive(shared)
        self._aead = AESGCM(key)

    def seal(self, plain: bytes, label: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, label)

    def open(self, sealed: bytes, label: bytes) -> bytes | None:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], label)
        except (InvalidTag, ValueError):
            return None


def token() -> str:
    """A random token for a cookie or a link (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """SHA-256 of a long random value: what the database keeps instead of it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
