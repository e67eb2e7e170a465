"""Channel-neutral phone menus: the conversation engine, its screens, texts and renderers.

A library: it declares what it needs from the booking core in `menus.ports` and imports
nothing from the gateway.
"""

from menus.catalogue import Catalogue, CatalogueError, load_catalogues
from menus.check import Violation, check_screens
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ports import (
    REFUSAL_CODES,
    BookingPort,
    BookingView,
    Choice,
    HoldView,
    Refused,
    SlotChoice,
)
from menus.reply import Option, Reply
from menus.session import Session
from menus.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from menus.ussd import USSD_LIMIT, UssdRenderer, UssdScreen, render_ussd

__all__ = [
    "REFUSAL_CODES",
    "USSD_LIMIT",
    "BookingPort",
    "BookingView",
    "Catalogue",
    "CatalogueError",
    "Choice",
    "Engine",
    "EngineConfig",
    "HoldView",
    "MemorySessionStore",
    "Option",
    "RedisSessionStore",
    "Refused",
    "Reply",
    "Session",
    "SessionStore",
    "SlotChoice",
    "UssdRenderer",
    "UssdScreen",
    "Violation",
    "check_screens",
    "load_catalogues",
    "render_ussd",
]
