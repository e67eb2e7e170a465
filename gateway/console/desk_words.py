"""The booking core's refusals of a desk action, as one sentence in the page's language.

The core raises small named errors with a stable `code` and facts; a clerk reads what is wrong
and, where there is one, what to do. The words live in texts.py (`desk.refused.<code>`), in
English and Swahili; a refusal without words of its own gets the general one. One code can
mean different things to different actions ("not active" cannot be cancelled, cannot be
marked a no-show): the action's own words (`desk.refused.<action>.<code>`) come first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from gateway.booking.domain.errors import BookingError

GENERAL = "desk.refused"


def refusal(error: BookingError, t: Mapping[str, str], action: str | None = None) -> str:
    """The sentence for `error` refusing `action`, its facts filled in (dates as the
    hospital's clock shows)."""
    own = t.get(f"{GENERAL}.{action}.{error.code}") if action else None
    template = own or t.get(f"{GENERAL}.{error.code}", t[GENERAL])
    return template.format(**_facts(error.facts, t))


def _facts(facts: Mapping[str, Any], t: Mapping[str, str]) -> dict[str, str]:
    ticket = facts.get("ticket")
    status = str(facts.get("status", ""))
    return {
        "number": str(getattr(ticket, "queue_number", None) or ""),
        "day": _when(facts.get("day")),
        "at": _when(facts.get("starts_at")),
        "status": t.get(f"person.status.{status}", status.replace("_", " ")),
    }


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return value.isoformat() if isinstance(value, date) else ""
