"""One-time codes are secrets: kept only as long as it takes to send them, never logged.

The relay drops the code from the `phone.code` and `person.move_code` events' payloads once
the message exists; the message body is masked once the attempt is final (sent or failed), so
neither the outbox (`ors outbox`) nor a backup holds a code that still works. Log lines mask any 4-digit group,
whatever the template (the console provider logs bodies).
"""

from __future__ import annotations

import re
from typing import Any

SECRET_TEMPLATES = frozenset({"phone_code", "move_code"})
# A caller waits on the line for these: relayed and sent ahead of everything else.
URGENT_TEMPLATES = frozenset({"phone_code"})
# event type -> payload keys dropped once the event is relayed
SECRET_PAYLOAD: dict[str, tuple[str, ...]] = {
    "phone.code": ("code",),
    "person.move_code": ("code",),
}
_DIGIT = re.compile(r"\d")
_CODE = re.compile(r"(?<!\d)\d{4}(?!\d)")
# A T-code as SMS show it (482 913 5575, or 482-913-5575): every group, not only the last.
_GROUPED_TCODE = re.compile(r"(?<!\d)\d{3}[ -]\d{3}[ -]\d{4}(?!\d)")


def redact(body: str) -> str:
    """The body with every digit masked: "ORS code 4821. …" → "ORS code ****. …"."""
    return _DIGIT.sub("*", body)


def for_log(body: str) -> str:
    """The body with each grouped T-code and each standalone 4-digit group (a one-time code)
    masked."""
    return _CODE.sub("****", _GROUPED_TCODE.sub("*** *** ****", body))


def relayed_payload(event_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The payload without its secrets, or None when the event carries none."""
    keys = SECRET_PAYLOAD.get(event_type, ())
    if not any(key in payload for key in keys):
        return None
    return {k: v for k, v in payload.items() if k not in keys}
