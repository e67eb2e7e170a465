"""The kiosk's CheckInDesk, implemented on the booking core and the kiosk registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import Counter

from gateway.booking.domain.errors import CheckInRefused
from gateway.booking.operations.checkin import Ticket
from gateway.kiosks import identify, touch
from gateway.runtime import Runtime
from kiosk.ports import KioskInfo, Refusal, TicketInfo
from tcode.keys import Keyring

# Which kiosk asks what, without anything personal: the kiosk id is bounded by the registry
# (only authenticated kiosks get here), so the label cannot be inflated by strangers.
KIOSK_SCANS = Counter(
    "ors_kiosk_scans_total", "Codes a kiosk asked the desk about", ["kiosk", "kind"]
)


@dataclass
class BookingDesk:
    runtime: Runtime
    keyring: Keyring = field(init=False)
    setup_pin: str = field(init=False)
    cache_for: timedelta = field(init=False)
    _known: dict[str, tuple[datetime, KioskInfo]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        settings = self.runtime.settings
        self.keyring = self.runtime.keys.keyring
        self.setup_pin = settings.kiosk_setup_pin
        self.cache_for = timedelta(seconds=settings.kiosk_identity_cache_seconds)

    def identify(self, key: str) -> KioskInfo | None:
        """The kiosk for a key, remembered for `kiosk.identity_cache_seconds` so a scan costs
        no extra query; a revoked or rotated key works at most that long (0: not at all)."""
        now = self.runtime.clock.now()
        cached = self._known.get(key)
        if cached and cached[0] > now:
            return cached[1]
        self._known.pop(key, None)
        found = identify(self.runtime.reader, key)
        if found is None:
            return None
        info = KioskInfo(found.id, found.name, found.hospital_code, found.hospital, found.language)
        if self.cache_for:
            self._known[key] = (now + self.cache_for, info)
        # At most once per cache period and process: "last used" is as fresh as the cache.
        touch(self.runtime.writer, found.id, now)
        return info

    def check_in(self, tcode: str, kiosk: KioskInfo, dry_run: bool) -> TicketInfo:
        KIOSK_SCANS.labels(str(kiosk.id), "lookup" if dry_run else "checkin").inc()
        try:
            ticket = self.runtime.booking.check_in(
                tcode, kiosk.hospital_code, dry_run, kiosk_id=kiosk.id
            )
        except CheckInRefused as refused:
            facts = dict(refused.facts)
            ticket_fact = facts.get("ticket")
            if isinstance(ticket_fact, Ticket):
                facts["ticket"] = _ticket(ticket_fact)
            raise Refusal(refused.status, **facts) from None
        return _ticket(ticket)


def _ticket(t: Ticket) -> TicketInfo:
    return TicketInfo(
        t.queue_number,
        t.hospital,
        t.department,
        t.room,
        t.doctor,
        t.starts_at,
        t.checked_in_at,
        t.sensitive,
        t.person,
        t.hospital_names,
        t.department_names,
    )
