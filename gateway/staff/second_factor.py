"""TOTP second factors (RFC 6238, 30-second steps, 6 digits) and one-time recovery codes."""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp

from gateway.staff.secrets import digest

ISSUER = "ORS Gateway"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app scans from the enrolment QR."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """Return the time step `code` is valid for (this one or a neighbour, for clock drift),
    None when it is wrong or its step was used already (a code works once)."""
    typed = "".join(code.split())
    if not (typed.isdigit() and len(typed) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if (after is None or step > after) and secrets.compare_digest(
            totp.generate_otp(step), typed
        ):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like "k7wq-9d3m-xh2p" (60 bits each), shown once."""
    return [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]


def recovery_digest(code: str) -> str:
    return digest("".join(code.casefold().split()).replace("-", ""))
