"""What the kiosk needs from the booking core, declared here; the gateway wires it in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tcode.keys import Keyring


@dataclass(frozen=True)
class KioskInfo:
    id: int
    name: str
    hospital_code: str
    hospital: str
    language: str


@dataclass(frozen=True)
class TicketInfo:
    queue_number: int | None
    hospital: str
    department: str
    room: str | None
    doctor: str | None
    starts_at: datetime  # hospital-local
    checked_in_at: datetime | None  # hospital-local


class Refusal(Exception):
    """The desk refuses a voucher: `status` is one of DESIGN §8's, `facts` explain it."""

    def __init__(self, status: str, **facts: Any):
        self.status, self.facts = status, facts
        super().__init__(status)


class CheckInDesk(Protocol):
    keyring: Keyring

    def identify(self, key: str) -> KioskInfo | None: ...

    def check_in(self, tcode: str, kiosk: KioskInfo, dry_run: bool) -> TicketInfo:
        """Check in (or only validate) a T-code at the kiosk's hospital; raise Refusal."""
        ...
