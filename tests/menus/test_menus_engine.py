"""The engine around the screens: first hop, replays, failures, and the flow table checks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import menus
from menus.catalogue import Catalogue
from menus.context import Context, EngineConfig
from menus.engine import Engine
from menus.flow import Flow, FlowError, Go, Screen, View
from menus.ports import Choice
from menus.reply import Option
from menus.screens import build_flow
from menus.session import Session
from tests.menus.conftest import CALLER, DIAL, Phone
from tests.menus.fake_port import FakePort


def test_the_shipped_flow_is_consistent() -> None:
    flow = build_flow()
    assert flow.start == "resume" and flow.main == "main"
    assert {"main", "city", "hospital", "department", "day", "slot", "confirm"} <= set(flow.screens)


def _view(ctx: Context) -> View:
    return View(("Hello",), (Option("go", "Go"),))


def test_flow_refuses_unknown_targets_and_unreachable_screens() -> None:
    main = Screen("main", _view, lambda ctx, v: Go("nowhere"), leads_to=frozenset({"nowhere"}))
    with pytest.raises(FlowError, match="main leads to unknown"):
        Flow([main], [], start="main", main="main")
    main = Screen("main", _view)
    lonely = Screen("lonely", _view)
    with pytest.raises(FlowError, match="unreachable"):
        Flow([main, lonely], [], start="main", main="main")


def test_going_somewhere_undeclared_fails_loudly(
    port: FakePort, catalogues: dict[str, Catalogue]
) -> None:
    # The table is consistent (main > side > other), but main's act breaks its declaration.
    main = Screen("main", _view, lambda ctx, v: Go("other"), leads_to=frozenset({"side"}))
    side = Screen("side", _view, leads_to=frozenset({"other"}))
    other = Screen("other", _view)
    flow = Flow([main, side, other], [], start="main", main="main")
    engine = Engine(port, catalogues, EngineConfig("*1#"), flow=flow)
    session = Session.new("k", CALLER)
    engine.step(session, None)
    with pytest.raises(FlowError, match="undeclared 'other'"):
        engine.step(session, "1")


def test_default_language_must_have_a_catalogue(
    port: FakePort, catalogues: dict[str, Catalogue]
) -> None:
    with pytest.raises(ValueError, match="'fr'"):
        Engine(port, catalogues, EngineConfig("*1#", default_language="fr"))


def test_no_input_repeats_the_screen_without_counting(engine: Engine) -> None:
    session = Session.new("k", CALLER)
    first = engine.step(session, None)
    again = engine.step(session, None)
    assert again == first and session.inputs == 0
    engine.step(session, "1")
    assert session.inputs == 1


def test_a_closed_session_keeps_its_last_screen(engine: Engine) -> None:
    session = Session.new("k", CALLER)
    engine.step(session, None)
    closing = engine.step(session, "4")
    assert closing.end
    assert engine.step(session, "1") == closing


def test_a_session_from_an_older_release_starts_again(engine: Engine) -> None:
    session = Session.new("k", CALLER)
    session.state = "screen_that_was_renamed"
    assert engine.step(session, "1").screen == "main"


def test_failure_reply_is_a_polite_end(engine: Engine) -> None:
    reply = engine.failure_reply("sw")
    assert reply.end and reply.prompt == (
        "Samahani, huduma haipatikani sasa. Tafadhali jaribu tena baadaye.",
    )
    assert engine.failure_reply(None).prompt[0].startswith("Sorry, the service")
    assert engine.failure_reply("xx").prompt[0].startswith("Sorry, the service")


def test_unexpected_port_errors_reach_the_adapter(
    phone: Phone, port: FakePort, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(city_id: str) -> list[Choice]:
        raise ConnectionError("database went away")

    monkeypatch.setattr(port, "hospitals", broken)
    phone.dial()
    with pytest.raises(ConnectionError):
        phone.press("1")


def test_sessions_are_independent(engine: Engine, port: FakePort) -> None:
    first, second = Phone(engine, CALLER), Phone(engine, "+254700000002")
    first.run([(DIAL, [], False), ("1", ["Choose hospital"], False)])
    second.run([(DIAL, [], False), ("3", ["Choose language"], False)])
    first.run([("1", ["Choose department"], False)])


def test_menus_imports_no_other_project_package() -> None:
    forbidden = {"gateway", "tcode", "kiosk", "flask", "redis"}
    root = Path(menus.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
