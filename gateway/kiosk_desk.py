"""The kiosk's CheckInDesk, implemented on the booking core and the kiosk registry."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway.booking.checkin import CheckInRefused, Ticket
from gateway.kiosks import identify, touch
from gateway.runtime import Runtime
from kiosk.ports import KioskInfo, Refusal, TicketInfo
from tcode.keys import Keyring

IDENTITY_TTL_SECONDS = 60.0  # a revoked key stops working within a minute


@dataclass
class BookingDesk:
    runtime: Runtime
    keyring: Keyring = field(init=False)
    _known: dict[str, tuple[float, KioskInfo]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.keyring = self.runtime.keys.keyring

    def identify(self, key: str) -> KioskInfo | None:
        """The kiosk for a key; remembered briefly so a scan costs no extra query."""
        cached = self._known.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = identify(self.runtime.reader, key)
        if found is None:
            return None
        info = KioskInfo(found.id, found.name, found.hospital_code, found.hospital, found.language)
        self._known[key] = (time.monotonic() + IDENTITY_TTL_SECONDS, info)
        touch(self.runtime.writer, found.id, self.runtime.clock.now())
        return info

    def check_in(self, tcode: str, kiosk: KioskInfo, dry_run: bool) -> TicketInfo:
        try:
            ticket = self.runtime.booking.check_in(tcode, kiosk.hospital_code, dry_run)
        except CheckInRefused as refused:
            facts = dict(refused.facts)
            if isinstance(facts.get("ticket"), Ticket):
                facts["ticket"] = _ticket(facts["ticket"])
            raise Refusal(refused.status, **facts) from None
        return _ticket(ticket)


def _ticket(t: Ticket) -> TicketInfo:
    return TicketInfo(
        t.queue_number, t.hospital, t.department, t.room, t.doctor, t.starts_at, t.checked_in_at
    )
