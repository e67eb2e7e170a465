"""What the kiosk needs from the booking core, declared here; the gateway wires it in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    department: str | None  # None for a sensitive department: screens say "your clinic"
    room: str | None
    doctor: str | None
    starts_at: datetime  # hospital-local
    checked_in_at: datetime | None  # hospital-local
    sensitive: bool = False
    person: str | None = None  # whose booking: a first name only, never a phone or an ID
    # The names in other languages ({"sw": ...}); none for a sensitive department.
    hospital_names: Mapping[str, str] = field(default_factory=dict)
    department_names: Mapping[str, str] = field(default_factory=dict)

    def hospital_in(self, language: str) -> str:
        return self.hospital_names.get(language) or self.hospital

    def department_in(self, language: str) -> str | None:
        if self.department is None:
            return None
        return self.department_names.get(language) or self.department


class Refusal(Exception):
    """The desk refuses a voucher: `status` is one of kiosk/api.py's, `facts` explain it."""

    def __init__(self, status: str, **facts: Any):
        self.status, self.facts = status, facts
        super().__init__(status)


class CheckInDesk(Protocol):
    keyring: Keyring
    setup_pin: str  # digits staff type to forget a kiosk's key; "" for none

    def identify(self, key: str) -> KioskInfo | None:
        """The kiosk of a key, or None for an unknown or revoked one."""
        ...

    def check_in(self, tcode: str, kiosk: KioskInfo, dry_run: bool) -> TicketInfo:
        """Check in (or only validate) a T-code at the kiosk's hospital, recording which
        kiosk asked; raise Refusal."""
        ...
