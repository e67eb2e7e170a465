"""Whatever a caller types, the engine answers with a valid screen within the limits."""

from __future__ import annotations

from hypothesis import event, given
from hypothesis import strategies as st

from menus.catalogue import load_catalogues
from menus.context import EngineConfig
from menus.engine import Engine
from menus.gsm7 import bad_chars
from menus.ports import Choice
from menus.reply import INPUT_KINDS, Reply
from menus.session import Session
from menus.ussd import USSD_LIMIT, UssdRenderer
from tests.menus.fake_port import FakePort
from tests.menus.test_menus_navigation import DEPARTMENTS

CATALOGUES = load_catalogues()
RENDERER = UssdRenderer()

# Mostly keys that lead somewhere (above all "1", the way to a booking), so the walk reaches
# the deep screens, and between them anything at all.
keys = st.sampled_from(["1"] * 8 + ["2", "3", "4", "0", "00", "98", "7", "12", "26", "99"])
typed = st.one_of(
    keys,
    keys,
    keys,
    st.text(max_size=20),
    st.text(min_size=200, max_size=2000),
    st.just(""),
)


def _port() -> FakePort:
    return FakePort(
        cities=[Choice("NBO", "Nairobi"), Choice("MSA", "Mombasa")],
        departments={
            "KNH": [Choice(f"D{i:02d}", name) for i, name in enumerate(DEPARTMENTS)],
            "MBGH": [Choice("OPD", "Outpatients")],
        },
    )


def _assert_valid(reply: Reply) -> None:
    assert isinstance(reply, Reply)
    assert reply.input_kind in INPUT_KINDS
    assert reply.prompt and all(isinstance(line, str) for line in reply.prompt)
    assert len({o.id for o in reply.options}) == len(reply.options)
    text, end = RENDERER.render(reply)
    assert end is reply.end
    assert 0 < len(text) <= USSD_LIMIT
    assert not bad_chars(text)
    if not end:
        assert reply.options or reply.can_back or reply.can_home or reply.input_kind != "choice"


@given(inputs=st.lists(typed, max_size=25), language=st.sampled_from(["en", "sw"]))
def test_any_input_gets_a_valid_screen(inputs: list[str], language: str) -> None:
    port = _port()
    port.languages["+254700000009"] = language
    engine = Engine(port, CATALOGUES, EngineConfig(shortcode="*384*123#"))
    session = Session.new("s0", "+254700000009")
    _assert_valid(engine.step(session, None))
    for n, text in enumerate(inputs, start=1):
        session = Session.from_json(session.to_json())  # as the store would
        before = session.inputs
        reply = engine.step(session, text)
        _assert_valid(reply)
        event(reply.screen)
        assert session.inputs == before + 1
        if reply.end:
            session = Session.new(f"s{n}", "+254700000009")
            _assert_valid(engine.step(session, None))
