"""What a screen can see while it shows or acts: the port, the session, the texts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from menus.catalogue import Catalogue
from menus.ports import BookingPort, HoldView, PersonChoice
from menus.session import Session


@dataclass(frozen=True)
class EngineConfig:
    shortcode: str  # the USSD code callers dial, named in the help screen
    default_language: str = "en"
    channel: str = "ussd"  # passed to the core with each booking; "ivr": a voice call
    # A voice caller proving the phone: wrong codes (or T-codes) allowed per call, and how
    # long the call waits in silence for the SMS with the code.
    proof_tries: int = 3
    proof_wait_seconds: int = 90


@dataclass(frozen=True)
class Context:
    # Names things as the catalogue does; `port` names them in the session's language.
    booking: BookingPort
    session: Session
    catalogues: Mapping[str, Catalogue]
    config: EngineConfig
    # False on a session's first hop when the caller never booked: the first screen then says
    # the privacy notice (menus.screens.home). Later hops never repeat it.
    informed: bool = True
    # The caller's hold as this hop last learnt it (placed, released, or read once): a screen
    # shown right after never asks the core again within the same hop.
    _held: dict[str, HoldView | None] = field(default_factory=dict)
    # The phone's persons as this hop read them: a screen and the refusal after it, or a
    # list naming several bookings' persons, ask the core once.
    _persons: dict[str, list[PersonChoice]] = field(default_factory=dict)

    @property
    def phone(self) -> str:
        return self.session.phone

    @property
    def port(self) -> BookingPort:
        # Read on every use, like `cat`: a language chosen in this hop names things in it.
        return self.booking.speaking(self.session.language)

    @property
    def cat(self) -> Catalogue:
        # Read on every use: choosing a language switches the texts within the same hop.
        return self.catalogues[self.session.language]

    def t(self, key: str, **params: object) -> str:
        return self.cat.text(key, **params)

    def chosen(self, name: str) -> str:
        return self.session.chosen[name]

    def current_hold(self) -> HoldView | None:
        if "hold" not in self._held:
            self._held["hold"] = self.port.current_hold(self.phone)
        return self._held["hold"]

    def learnt_hold(self, hold: HoldView | None) -> None:
        self._held["hold"] = hold

    def persons(self) -> list[PersonChoice]:
        """The phone's shown persons, "Me" first, read once per hop."""
        if "persons" not in self._persons:
            self._persons["persons"] = self.port.persons(self.phone)
        return self._persons["persons"]

    def added_person(self) -> None:
        """Forget the persons read in this hop: the core has one more now."""
        self._persons.clear()
