"""The state of one conversation, small enough to live in Redis between two key presses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from menus.reply import Reply

_VERSION = 1


@dataclass
class Session:
    """One dial (USSD) or call (IVR). `state` is None until the engine has shown a screen."""

    key: str
    phone: str
    language: str = ""
    state: str | None = None
    stack: list[str] = field(default_factory=list)  # screens Back returns to, newest last
    chosen: dict[str, str] = field(default_factory=dict)  # ids picked so far: city, slot, ref...
    page: int = 0
    # The last screen shown: a number the caller types refers to what they saw, even if the
    # core's lists changed since (another caller took a slot between two hops).
    shown: Reply | None = None
    inputs: int = 0  # inputs consumed, so an adapter can spot a provider's repeated hop
    misses: int = 0  # silences and meaningless keys in a row (a voice call ends after three)
    # When the caller reached a screen that lets them wait in silence (a UNIX time from the
    # call's clock), so the wait is bounded by time rather than by re-prompts.
    waiting_since: float | None = None
    # The adapter's last (raw input, answer) pair: a provider that retries a hop gets the very
    # same answer, kept in the session itself so a hop costs one read and one write.
    answered: tuple[str, str] | None = None
    # The phone has dependants (Caller.household, or one added in this session).
    household: bool = False
    # "Book" refuses everyone until this day (ISO; Caller.blocked_until): known from the first
    # hop, so a blocked caller learns it before choosing anything.
    blocked_until: str | None = None

    @classmethod
    def new(cls, key: str, phone: str) -> Session:
        return cls(key=key, phone=phone)

    def replay(self, raw_input: str) -> str | None:
        """The answer already given to this very input, if the provider is repeating a hop."""
        if self.answered is not None and self.answered[0] == raw_input:
            return self.answered[1]
        return None

    def to_json(self) -> str:
        data = {
            "v": _VERSION,
            "key": self.key,
            "phone": self.phone,
            "language": self.language,
            "state": self.state,
            "stack": self.stack,
            "chosen": self.chosen,
            "page": self.page,
            "shown": None if self.shown is None else self.shown.to_dict(),
            "inputs": self.inputs,
            "misses": self.misses,
            "waiting_since": self.waiting_since,
            "answered": None if self.answered is None else list(self.answered),
            "household": self.household,
            "blocked_until": self.blocked_until,
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Session:
        """Rebuild a session from `to_json`; raise ValueError if the data is not one."""
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("v") != _VERSION:
                raise ValueError(f"unsupported session version {data.get('v')!r}")
            shown = data["shown"]
            return cls(
                key=str(data["key"]),
                phone=str(data["phone"]),
                language=str(data["language"]),
                state=None if data["state"] is None else str(data["state"]),
                stack=[str(s) for s in data["stack"]],
                chosen={str(k): str(v) for k, v in data["chosen"].items()},
                page=int(data["page"]),
                shown=None if shown is None else Reply.from_dict(shown),
                inputs=int(data["inputs"]),
                misses=int(data.get("misses", 0)),  # absent in sessions saved before it
                answered=_answered(data.get("answered")),
                waiting_since=_float_or_none(data.get("waiting_since")),
                household=bool(data.get("household", False)),  # absent in older sessions
                blocked_until=_str_or_none(data.get("blocked_until")),  # absent in older ones
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed session: {exc}") from exc


def _str_or_none(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _float_or_none(raw: Any) -> float | None:
    return None if raw is None else float(raw)


def _answered(raw: Any) -> tuple[str, str] | None:
    if raw is None:
        return None
    text, body = raw  # a malformed pair raises ValueError or TypeError, as a bad session should
    return str(text), str(body)
