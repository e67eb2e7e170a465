"""Staff passwords: argon2id hashes, and the rules a new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing a megabyte of "password" is a denial of service, not a password
# argon2-cffi's defaults are RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes): about
# 85 ms a hash here. The test suite swaps in a cheap hasher (tests/conftest.py) and checks
# this one's parameters once; nothing else ever replaces it.
PRODUCTION_HASHER = PasswordHasher(type=Type.ID)
hasher = PRODUCTION_HASHER


class WeakPassword(ValueError):
    """The password is refused; the message says why, for the person choosing it, and
    `reason` as a code ("short", "long", "common", "email") for pages in other languages."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_new(password: str, email: str = "") -> None:
    """Raise WeakPassword unless `password` may be a staff password."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword("short", f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("long", f"at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if folded in _common() or folded.strip("0123456789!.@#") in _common():
        raise WeakPassword("common", "one of the most common passwords")
    if email and email.casefold().split("@")[0] in folded:
        raise WeakPassword("email", "not your e-mail address")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored argon2id hash (never for a missing one)."""
    if not stored or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher.check_needs_rehash(stored)


@cache
def decoy() -> str:
    """A hash of nothing anyone types: an unknown e-mail costs the same time as a wrong
    password, so the answer's timing does not tell which accounts exist."""
    return hasher.hash("decoy password nobody types 7f3a")


@cache
def _common() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords (from leaked password sets), lower-cased."""
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
