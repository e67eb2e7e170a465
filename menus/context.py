"""What a screen can see while it shows or acts: the port, the session, the texts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from menus.catalogue import Catalogue
from menus.ports import BookingPort
from menus.session import Session


@dataclass(frozen=True)
class EngineConfig:
    shortcode: str  # the USSD code callers dial, named in the help screen
    default_language: str = "en"
    channel: str = "ussd"  # passed to the core with each booking


@dataclass(frozen=True)
class Context:
    port: BookingPort
    session: Session
    catalogues: Mapping[str, Catalogue]
    config: EngineConfig

    @property
    def phone(self) -> str:
        return self.session.phone

    @property
    def cat(self) -> Catalogue:
        # Read on every use: choosing a language switches the texts within the same hop.
        return self.catalogues[self.session.language]

    def t(self, key: str, **params: object) -> str:
        return self.cat.text(key, **params)

    def chosen(self, name: str) -> str:
        return self.session.chosen[name]
