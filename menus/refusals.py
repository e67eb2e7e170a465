"""Turn a refusal of the booking core into one short line in the caller's language."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from menus.catalogue import Catalogue
from menus.formats import clock
from menus.ports import REFUSAL_CODES, Refused

log = logging.getLogger(__name__)


def _slot_full(cat: Catalogue, params: dict[str, Any], day: date | None) -> str:
    next_times: list[datetime] = params.get("next_times") or []
    if not next_times:
        return cat.text("refused.slot_full")
    first = min(next_times)
    # The caller is looking at that day already, so the time alone is enough.
    when = clock(first) if first.date() == day else cat.when(first)
    return cat.text("refused.slot_full_next", when=when)


def _outside_horizon(cat: Catalogue, params: dict[str, Any], day: date | None) -> str:
    opens_at: datetime | None = params.get("opens_at")
    if opens_at is None:
        return cat.text("refused.outside_horizon")
    return cat.text("refused.outside_horizon_open", when=cat.when(opens_at))


def _about(cat: Catalogue, key: str, params: dict[str, Any], **values: Any) -> str:
    """Say line `key`, or its `_person` form naming the dependant the refusal is about (no
    `person` fact: the phone's holder, whose lines read as they always have)."""
    person = params.get("person")
    if person:
        return cat.text(f"{key}_person", person=person, **values)
    return cat.text(key, **values)


_WITH_PARAMS: dict[str, Callable[[Catalogue, dict[str, Any], date | None], str]] = {
    "slot_full": _slot_full,
    "outside_horizon": _outside_horizon,
    "limit_per_day": lambda cat, p, _: _about(cat, "refused.limit_per_day", p, limit=p["limit"]),
    "department_same_day": lambda cat, p, _: _about(cat, "refused.department_same_day", p),
    "deadline_passed": lambda cat, p, _: cat.text(
        "refused.deadline_passed", when=cat.when(p["deadline"])
    ),
    "blocked": lambda cat, p, _: _about(cat, "refused.blocked", p, date=cat.day(p["until"])),
    "limit_per_phone": lambda cat, p, _: cat.text("refused.limit_per_phone", limit=p["limit"]),
    "invalid_name": lambda cat, p, _: cat.text("refused.invalid_name", max_length=p["max_length"]),
}


def refusal_code(refused: Refused) -> str:
    """Return the refusal's code, or "unavailable" for a code the menus do not know."""
    if refused.code in REFUSAL_CODES:
        return refused.code
    log.warning("unknown refusal code %r shown as unavailable", refused.code)
    return "unavailable"


def refusal_line(cat: Catalogue, refused: Refused, day: date | None = None) -> str:
    """Say in one line why the core refused; `day` is the day the caller is booking, if any."""
    code = refusal_code(refused)
    explain = _WITH_PARAMS.get(code)
    if explain is None:
        return cat.text(f"refused.{code}")
    return explain(cat, refused.params, day)
