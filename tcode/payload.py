"""The signed voucher payload carried by the QR, and the parser kiosks feed scans and typing to.

Format: ``ORS1:<tcode>:<HOSPITAL CODE>:<YYYYMMDD>:<KEY ID>:<SIGNATURE>``. The signature is
Ed25519 over the UTF-8 bytes of everything before the final ``:``, in unpadded upper-case
base32. Every character is in the QR alphanumeric set, which keeps the QR small and lets a
keyboard-wedge scanner type it without keyboard-layout surprises.
"""

import datetime
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from cryptography.exceptions import InvalidSignature

from tcode import base32
from tcode.codes import is_valid, normalize
from tcode.keys import Keyring, SigningKey

PREFIX = "ORS1"
SEPARATOR = ":"
_FIELD_COUNT = 6
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_HOSPITAL = re.compile(r"[A-Z0-9]+")
_DATE = re.compile(r"[0-9]{8}")
_KEY_ID = re.compile(r"[0-9A-F]{8}")

RefusalReason = Literal["bad_code", "bad_signature", "unknown_key"]


@dataclass(frozen=True, slots=True)
class TypedCode:
    """A well-formed typed T-code: only an online lookup can say whether it is live."""

    tcode: str


@dataclass(frozen=True, slots=True)
class GenuineVoucher:
    """A QR payload whose signature verifies with a trusted key."""

    tcode: str
    hospital: str
    day: datetime.date
    key_id: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Input that is not a voucher, with the reason the kiosk reports."""

    reason: RefusalReason


ParseResult = TypedCode | GenuineVoucher | Refused


class _Claim(NamedTuple):
    """The well-formed fields a payload claims, before its signature is checked."""

    tcode: str
    hospital: str
    day: datetime.date
    key_id: str


def is_qr_alphanumeric(text: str) -> bool:
    """Tell whether every character of text is in the QR alphanumeric set."""
    return QR_ALPHANUMERIC.issuperset(text)


def _signed_part(tcode: str, hospital: str, day: datetime.date, key_id: str) -> str:
    """Return the signed text: every field before the signature, joined by ':'."""
    # Not strftime("%Y"): it does not zero-pad years before 1000 on every platform.
    day_text = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    return SEPARATOR.join((PREFIX, tcode, hospital, day_text, key_id))


def sign(tcode: str, hospital: str, day: datetime.date, key: SigningKey) -> str:
    """Return the signed QR payload of a voucher for tcode at hospital on day."""
    if not is_valid(tcode):
        raise ValueError(f"not a valid T-code: {tcode!r}")
    if not _HOSPITAL.fullmatch(hospital):
        raise ValueError(f"hospital codes are upper-case letters and digits: {hospital!r}")
    signed = _signed_part(tcode, hospital, day, key.key_id)
    return signed + SEPARATOR + base32.encode(key.sign(signed.encode("utf-8")))


def parse(text: str, keyring: Keyring) -> ParseResult:
    """Classify scanned or typed text as a typed code, a genuine voucher, or a refusal."""
    # Scanners add CR/LF and may type lower case (caps lock, layouts); the signature covers
    # the canonical upper-case fields, so forgiving both costs no security.
    compact = "".join(text.split())
    # ASCII is checked before upper() because "ſ".upper() == "S" would let look-alikes in;
    # non-ASCII text falls through to the typed path, which tolerates "–" from phone keyboards.
    if compact.isascii() and compact.upper().startswith(PREFIX + SEPARATOR):
        return _parse_payload(compact.upper(), keyring)
    return _parse_typed(text)


def _parse_typed(text: str) -> TypedCode | Refused:
    """Accept typed digits whose check digit passes; refuse everything else as bad_code."""
    code = normalize(text)
    return TypedCode(code) if is_valid(code) else Refused("bad_code")


def _parse_payload(payload: str, keyring: Keyring) -> GenuineVoucher | Refused:
    """Check a payload's fields, then its key id, then its signature -- cheapest first."""
    fields = payload.split(SEPARATOR)
    claim = _claim(fields)
    if claim is None:
        return Refused("bad_code")
    public_key = keyring.get(claim.key_id)
    if public_key is None:
        return Refused("unknown_key")
    signed = payload.rpartition(SEPARATOR)[0]
    try:
        public_key.verify(base32.decode(fields[-1]), signed.encode("utf-8"))
    except (ValueError, InvalidSignature):
        return Refused("bad_signature")
    return GenuineVoucher(*claim)


def _claim(fields: list[str]) -> _Claim | None:
    """Return the fields a payload claims if all are well formed, else None."""
    # The Damm check runs here, before any signature work: a mistyped or damaged code costs
    # a table walk, not an Ed25519 verification.
    if len(fields) != _FIELD_COUNT or fields[0] != PREFIX or not is_valid(fields[1]):
        return None
    _, tcode, hospital, day_text, key_id, _ = fields
    day = _parse_day(day_text)
    if day is None or not _HOSPITAL.fullmatch(hospital) or not _KEY_ID.fullmatch(key_id):
        return None
    return _Claim(tcode, hospital, day, key_id)


def _parse_day(text: str) -> datetime.date | None:
    """Parse YYYYMMDD into a date, or return None if it is not a real calendar day."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
