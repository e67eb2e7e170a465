"""Caller numbers and session/call ids of the USSD and voice hooks, checked at the edge.

A caller id that is no phone number (a SIP URI, `client:alice`, a withheld number) can
receive no SMS and fits no phone column; an id longer than the session columns, or with a NUL
or another control character, cannot be stored (PostgreSQL refuses NUL in text). Before this
check such a request reached the database, or was written into an event that the relay could
then never store. Now the hook answers its polite apology and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.booking.domain.errors import InvalidPhone

MAX_LENGTH = 80  # ids: Africa's Talking's run to about 40, Twilio's CallSid is 34


class MalformedCaller(ValueError):
    """The caller number or an id cannot be used. The message names which, never its value."""


def checked_id(raw: str, what: str = "session id") -> str:
    """Return a provider's session or call id, or raise MalformedCaller."""
    if not _plain_text(raw):
        raise MalformedCaller(f"malformed {what}")
    return raw


def checked_phone(raw: str, to_e164: Callable[[str], str]) -> str:
    """Return the caller's number in E.164 (`to_e164` is the booking core's `phone`), or raise
    MalformedCaller for anything the core would not accept as a phone number."""
    if not _plain_text(raw):
        raise MalformedCaller("malformed caller number")
    try:
        return to_e164(raw)
    except InvalidPhone:
        raise MalformedCaller("the caller id is no phone number") from None


def _plain_text(raw: str) -> bool:
    # isprintable() is False for NUL and every other control or separator character.
    return 0 < len(raw) <= MAX_LENGTH and raw.isprintable()
