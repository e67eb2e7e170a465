"""Screen texts that remember what they were made of, so a voice can say them for the ear.

A USSD screen shows "Tue 8 Dec 10:30 (6 left)"; a voice call should say "Tuesday the eighth
of December at half past ten, 6 places left" from recorded fragments. Both start from the
same catalogue text, so the texts the screens build are `str` subclasses that also carry
their catalogue key and typed parameters: a `Text` (a catalogue text and its parameters), a
`Moment` (a day or a day and time), a `Clock` (a time of day) and a `Digits` (a T-code).
Everything that only shows text treats them as plain strings. `encode` and `decode` keep
them through a session saved as JSON, because a voice menu is said again from the saved reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, object] = MappingProxyType({})


class Text(str):
    """A catalogue text as shown, with the key and parameters it was formatted from."""

    key: str
    params: Mapping[str, object]

    def __new__(cls, shown: str, key: str, params: Mapping[str, object] = _EMPTY) -> Text:
        made = super().__new__(cls, shown)
        made.key, made.params = key, MappingProxyType(dict(params))
        return made

    def __reduce__(self) -> tuple[object, ...]:
        return (Text, (str(self), self.key, dict(self.params)))


class Moment(str):
    """A day ("Tue 8 Dec") or a day and a time ("Tue 8 Dec 10:30") as shown."""

    value: date | datetime

    def __new__(cls, shown: str, value: date | datetime) -> Moment:
        made = super().__new__(cls, shown)
        made.value = value
        return made

    def __reduce__(self) -> tuple[object, ...]:
        return (Moment, (str(self), self.value))


class Clock(str):
    """A time of day as shown ("10:30"); `value` keeps the date and zone it came with."""

    value: datetime

    def __new__(cls, shown: str, value: datetime) -> Clock:
        made = super().__new__(cls, shown)
        made.value = value
        return made

    def __reduce__(self) -> tuple[object, ...]:
        return (Clock, (str(self), self.value))


class Digits(str):
    """Digits a caller reads back one by one (a T-code "482 913 5575")."""

    def __reduce__(self) -> tuple[object, ...]:
        return (Digits, (str(self),))


def encode(value: object) -> Any:
    """Return JSON-ready data for a screen text, keeping what a voice needs to say it."""
    if isinstance(value, Text):
        params = {name: encode(v) for name, v in value.params.items()}
        return {"text": str(value), "key": value.key, "params": params}
    if isinstance(value, Moment):
        kind = "datetime" if isinstance(value.value, datetime) else "date"
        return {"text": str(value), kind: value.value.isoformat()}
    if isinstance(value, Clock):
        return {"text": str(value), "clock": value.value.isoformat()}
    if isinstance(value, Digits):
        return {"text": str(value), "digits": True}
    if isinstance(value, (str, int)):
        return value
    return str(value)


def decode(data: Any) -> object:
    """Rebuild what `encode` returned; raise ValueError on data it never made."""
    if isinstance(data, (str, int)):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError(f"not a screen text: {data!r}")
    shown = data["text"]
    if "key" in data:
        params = data.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("a text's parameters must be a mapping")
        return Text(shown, str(data["key"]), {str(k): decode(v) for k, v in params.items()})
    if "datetime" in data:
        return Moment(shown, datetime.fromisoformat(data["datetime"]))
    if "date" in data:
        return Moment(shown, date.fromisoformat(data["date"]))
    if "clock" in data:
        return Clock(shown, datetime.fromisoformat(data["clock"]))
    if data.get("digits"):
        return Digits(shown)
    raise ValueError(f"unknown screen text: {sorted(data)}")


def decode_text(data: Any) -> str:
    """Return `decode(data)` where a screen expects text (a line or a label)."""
    found = decode(data)
    if not isinstance(found, str):
        raise ValueError(f"expected text, found {type(found).__name__}")
    return found
