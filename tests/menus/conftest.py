"""Fixtures for the menu tests: a fake core, the engine, and a phone that walks the menus."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import count

import pytest

from menus.catalogue import Catalogue, load_catalogues
from menus.context import EngineConfig
from menus.engine import Engine
from menus.gsm7 import bad_chars
from menus.reply import Reply
from menus.session import Session
from menus.sessions import MemorySessionStore
from menus.ussd import USSD_LIMIT, UssdRenderer
from tests.menus.fake_port import FakePort

SHORTCODE = "*384*123#"
CALLER = "+254700000001"
DIAL = None  # a transcript row that starts a new session


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool
    reply: Reply


def assert_fits(text: str) -> None:
    assert len(text) <= USSD_LIMIT, f"{len(text)} characters:\n{text}"
    assert not bad_chars(text), f"non GSM-7 {bad_chars(text)!r}:\n{text}"


class Phone:
    """A caller: each dial is a new session; every hop goes through the store as JSON."""

    _keys = count(1)

    def __init__(self, engine: Engine, number: str = CALLER) -> None:
        self.engine = engine
        self.number = number
        self.store = MemorySessionStore()
        self.renderer = UssdRenderer()
        self.key = ""

    def dial(self) -> Screen:
        self.key = f"session-{next(self._keys)}"
        return self._hop(Session.new(self.key, self.number), None)

    def press(self, typed: str) -> Screen:
        session = self.store.get(self.key)
        assert session is not None, "no open session: dial first"
        return self._hop(session, typed)

    def session(self) -> Session | None:
        return self.store.get(self.key)

    def _hop(self, session: Session, typed: str | None) -> Screen:
        reply = self.engine.step(session, typed)
        text, end = self.renderer.render(reply)
        assert_fits(text)
        if end:
            self.store.delete(session.key)
        else:
            self.store.put(session)
        return Screen(text, end, reply)

    def run(self, rows: Iterable[tuple[str | None, Sequence[str], bool]]) -> Screen:
        """Play transcript rows (input, substrings expected on the screen, ends?)."""
        screen = None
        for typed, expected, end in rows:
            screen = self.dial() if typed is DIAL else self.press(typed)
            for part in expected:
                assert part in screen.text, f"after {typed!r}: {part!r} not in\n{screen.text}"
            assert screen.end is end, f"after {typed!r}: end={screen.end}\n{screen.text}"
        assert screen is not None
        return screen


@pytest.fixture(scope="session")
def catalogues() -> dict[str, Catalogue]:
    return load_catalogues()


@pytest.fixture
def port() -> FakePort:
    return FakePort()


@pytest.fixture
def engine(port: FakePort, catalogues: dict[str, Catalogue]) -> Engine:
    return Engine(port, catalogues, EngineConfig(shortcode=SHORTCODE))


@pytest.fixture
def phone(engine: Engine) -> Phone:
    return Phone(engine)


@pytest.fixture
def make_phone(catalogues: dict[str, Catalogue]) -> Callable[[FakePort], Phone]:
    """Give a phone on an engine over a port built by the test."""

    def make(port: FakePort) -> Phone:
        return Phone(Engine(port, catalogues, EngineConfig(shortcode=SHORTCODE)))

    return make
