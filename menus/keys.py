"""What a caller's raw input means on the current screen, and who decides it.

Each channel has its own keys for navigation and its own numbering (USSD: `98`, `0`, `00`
and numbers global across pages; IVR: `9`, `*` and keys 1-8 per page), so the engine asks a
`Keypad` to read the input against the reply the caller is looking at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from menus.reply import Reply


@dataclass(frozen=True)
class Pick:
    option_id: str


@dataclass(frozen=True)
class Entry:
    text: str  # what was typed on a screen whose input kind is "digits" or "text"


@dataclass(frozen=True)
class Nav:
    to: Literal["more", "back", "home", "repeat"]


@dataclass(frozen=True)
class Invalid:
    pass


Key = Pick | Entry | Nav | Invalid


class Keypad(Protocol):
    def read(self, raw: str, reply: Reply) -> Key:
        """Say what `raw` means on `reply` (rendered at `reply.page`)."""
        ...
