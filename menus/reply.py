"""The engine's channel-neutral answer: what to say, what can be chosen, whether it ends.

Options carry ids, never numbers: the USSD renderer numbers them globally across pages, a
speech renderer numbers keys per page. Navigation (more, back, home) is offered as labels
in the caller's language; each renderer decides which keys stand for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from menus.texts import decode_text, encode

# "text": a few words typed on a USSD keypad (a first name); voice never asks for one.
InputKind = Literal["choice", "digits", "text", "none"]
INPUT_KINDS: tuple[str, ...] = ("choice", "digits", "text", "none")


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One screen: `prompt` lines, then `options`; `end` closes the session."""

    screen: str
    prompt: tuple[str, ...]
    options: tuple[Option, ...] = ()
    input_kind: InputKind = "choice"
    end: bool = False
    # Navigation labels in the caller's language; each renderer picks its own keys for them.
    more: str = "More"
    back: str = "Back"
    home: str = "Home"
    can_back: bool = False  # there is a previous screen (a later page can always go back)
    can_home: bool = False  # the caller is away from the main menu
    # The line shown above the screen after input that means nothing on it. Renderers keep
    # room for it on every page, so showing it never moves options to another page.
    invalid: str = "Invalid choice, try again."
    error: bool = False  # the last input was not accepted: show `invalid` with the screen
    page: int = 0
    waits: int = 0  # seconds of silence a voice call allows here (flow.View.waits)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data (the session keeps the last screen shown)."""
        return {
            "screen": self.screen,
            # Kept with what they were made of: a voice says a saved screen again for the ear.
            "prompt": [encode(line) for line in self.prompt],
            "options": [[o.id, encode(o.label)] for o in self.options],
            "input_kind": self.input_kind,
            "end": self.end,
            "more": self.more,
            "back": self.back,
            "home": self.home,
            "can_back": self.can_back,
            "can_home": self.can_home,
            "invalid": self.invalid,
            "waits": self.waits,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Rebuild a reply saved with `to_dict`; raise ValueError on malformed data."""
        try:
            kind = data["input_kind"]
            if kind not in INPUT_KINDS:
                raise ValueError(f"unknown input kind {kind!r}")
            return cls(
                screen=str(data["screen"]),
                prompt=tuple(decode_text(line) for line in data["prompt"]),
                options=tuple(Option(str(i), decode_text(label)) for i, label in data["options"]),
                input_kind=kind,
                end=bool(data["end"]),
                more=str(data["more"]),
                back=str(data["back"]),
                home=str(data["home"]),
                can_back=bool(data["can_back"]),
                can_home=bool(data["can_home"]),
                invalid=str(data["invalid"]),
                waits=int(data.get("waits", 0)),  # absent in sessions saved before it
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed reply: {exc}") from exc
