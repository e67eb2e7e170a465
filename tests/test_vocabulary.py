"""The booking core speaks one vocabulary: read from the source, with no database.

(a) Status literals live only in the state modules: everywhere else a status is named by its
    enum member. The scan reads the syntax tree, so prose, log text and template names that
    happen to be a status word are not flagged; only a string compared with, assigned to or
    passed as a status/state is.
(b) Each event type is built by exactly one constructor in `gateway.booking.domain.events`,
    and nothing outside that module passes an event type as text to a call.
(c) The operations run on row primitives: none imports `sqlalchemy.orm`, the unit of work or
    the session factories, or names a Session.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.booking.domain import events
from gateway.booking.domain.states import BookingStatus, HoldState, InvitationStatus, VoucherState
from gateway.messaging.statuses import MessageStatus

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "gateway"
STATE_MODULES = {
    GATEWAY / "booking" / "domain" / "states.py",
    GATEWAY / "messaging" / "statuses.py",
}
EVENTS_MODULE = GATEWAY / "booking" / "domain" / "events.py"
SQL_EVENTS_MODULE = GATEWAY / "booking" / "sql" / "events.py"  # `record` itself
STATUS_WORDS = frozenset(
    str(s)
    for enum in (BookingStatus, VoucherState, InvitationStatus, HoldState, MessageStatus)
    for s in enum
)
STATUS_NAMES = frozenset({"status", "state"})

# (file relative to the repository, line) -> why the string is not a status. Keep it short.
ALLOWED: dict[tuple[str, int], str] = {}


def _sources() -> Iterator[Path]:
    yield from sorted(GATEWAY.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _status_like(node: ast.AST) -> bool:
    """`x.status`, `status`, `booking_state`, `row["state"]`, `T.c.status`: names a status."""
    if isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        name = str(node.slice.value)
    else:
        return False
    return name in STATUS_NAMES or name.endswith(("_status", "_state"))


def _words(node: ast.AST | None) -> list[ast.Constant]:
    """The status-word constants `node` is, or holds as a tuple/list/set."""
    if isinstance(node, ast.Constant) and node.value in STATUS_WORDS:
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for elt in node.elts for c in _words(elt)]
    if isinstance(node, ast.IfExp):  # status="expired" if … else "open"
        return _words(node.body) + _words(node.orelse)
    return []


def _status_literals(tree: ast.Module) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_status_like(side) for side in sides):
                yield from (c for side in sides for c in _words(side))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = zip(target.elts, node.value.elts, strict=False)
                    yield from (c for t, v in pairs if _status_like(t) for c in _words(v))
                elif _status_like(target):
                    yield from _words(node.value)
            if _all_words(node.value):  # ACTIVE = ("confirmed", "checked_in")
                yield from _words(node.value)
        elif isinstance(node, ast.AnnAssign) and (
            _status_like(node.target) or _all_words(node.value)
        ):
            yield from _words(node.value)
        elif isinstance(node, ast.keyword) and node.arg is not None:
            if node.arg in STATUS_NAMES or node.arg.endswith(("_status", "_state")):
                yield from _words(node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in STATUS_NAMES:
                    yield from _words(value)
        elif isinstance(node, ast.Call):
            yield from (c for arg in _status_arguments(node) for c in _words(arg))


def _status_arguments(call: ast.Call) -> list[ast.expr]:
    """The arguments that are statuses: `Booking.status.in_([...])`, `in_states(T.c.state, …)`."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in {"in_", "not_in"}:
        return call.args if _status_like(func.value) else []
    return call.args[1:] if call.args and _status_like(call.args[0]) else []


def _all_words(node: ast.AST | None) -> bool:
    """A collection of two or more strings, all of them statuses: a status set in disguise."""
    if isinstance(node, ast.Call) and node.args:  # frozenset({...}), tuple([...])
        node = node.args[0]
    return (
        isinstance(node, ast.Tuple | ast.List | ast.Set)
        and len(node.elts) >= 2
        and all(isinstance(e, ast.Constant) and e.value in STATUS_WORDS for e in node.elts)
    )


def test_status_literals_live_only_in_the_state_modules() -> None:
    found = []
    for path in _sources():
        if path in STATE_MODULES:
            continue
        relative = str(path.relative_to(ROOT))
        for constant in _status_literals(_tree(path)):
            if (relative, constant.lineno) not in ALLOWED:
                found.append(f"{relative}:{constant.lineno}: {constant.value!r}")
    assert not sorted(set(found)), "use the enums of domain/states.py:\n" + "\n".join(
        sorted(set(found))
    )


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("booking.status == 'confirmed'", ["confirmed"]),
        ("v.state in ('issued', 'used')", ["issued", "used"]),
        ("b.status, b.at = 'cancelled', now", ["cancelled"]),
        ("update(T).values(status='no_show')", ["no_show"]),
        ("{'state': 'issued', 'ref': r}", ["issued"]),
        ("ACTIVE = ('confirmed', 'checked_in')", ["confirmed", "checked_in"]),
        ("Invitation.status.in_(['open', 'booked'])", ["open", "booked"]),
        ("row['status'] != 'sent'", ["sent"]),
        ("in_states(Voucher.state, ('issued',))", ["issued"]),
        ("Closed(status='expired' if late else 'open')", ["expired", "open"]),
        # not statuses: prose, template names, a breaker's state names, other keys
        ("log.info('confirmed')", []),
        ("name = 'released' if r else 'cancelled'", []),
        ("CLOSED, OPEN = 'closed', 'open'", []),
        ("{'issued': 'Valid'}", []),
        ("booking.status == BookingStatus.CONFIRMED", []),
    ],
)
def test_the_scan_flags_statuses_and_only_statuses(source: str, flagged: list[str]) -> None:
    assert [c.value for c in _status_literals(ast.parse(source))] == flagged


# --- (b) events ---------------------------------------------------------------------------


def _constructor_types() -> dict[str, list[str]]:
    """Event type -> the functions of domain/events.py that build it (`_event("type", …)`)."""
    built: dict[str, list[str]] = {}
    for node in _tree(EVENTS_MODULE).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "_event"
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                built.setdefault(call.args[0].value, []).append(node.name)
    return built


def test_each_event_type_has_exactly_one_constructor() -> None:
    built = _constructor_types()
    assert set(built) == events.EVENT_TYPES
    assert {t: fs for t, fs in built.items() if len(fs) != 1} == {}
    # named for its type, so a reader finds it: `booking.no_show` -> events.booking_no_show
    assert {t: fs[0] for t, fs in built.items()} == {t: t.replace(".", "_") for t in built}


def _event_type_arguments(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Event types passed as text to a call, and `record` calls in the old style."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        name = node.func.id if isinstance(node.func, ast.Name) else name
        if name == "record" and (len(node.args) > 3 or node.keywords):
            yield node.lineno, "record(db, 'type', subject, now, **payload)"
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Constant) and arg.value in events.EVENT_TYPES:
                yield node.lineno, str(arg.value)


def test_events_are_built_by_their_constructors_only() -> None:
    """Readers may name a type (relay tables, queries); writers call its constructor."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _sources()
        if path not in (EVENTS_MODULE, SQL_EVENTS_MODULE)
        for line, what in _event_type_arguments(_tree(path))
    ]
    assert found == [], "write events with gateway.booking.domain.events:\n" + "\n".join(found)


# --- (c) operations ----------------------------------------------------------------------


ORM_MODULES = ("sqlalchemy.orm", "gateway.booking.sql.uow", "gateway.db.session_factories")
ORM_NAMES = frozenset({"Session", "sessionmaker", "session_factories", "UnitOfWork"})


def _named(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def _orm_uses(tree: ast.Module) -> Iterator[int]:
    """Lines that import the ORM, its units of work or its factories, or name a Session."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Name | ast.Attribute) and _named(node) in ORM_NAMES:
            yield node.lineno
            continue
        else:
            continue
        if any(n == m or n.startswith(f"{m}.") for n in names for m in ORM_MODULES):
            yield node.lineno


def test_no_operation_uses_the_orm() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((GATEWAY / "booking" / "operations").rglob("*.py"))
        for line in _orm_uses(_tree(path))
    ]
    assert found == [], "operations run on row primitives (gateway.booking.sql):\n" + "\n".join(
        found
    )


def test_the_orm_check_sees_each_way_in() -> None:
    """The scan above flags every way an operation could reach the ORM, and plain Core."""
    flagged = {
        "from sqlalchemy.orm import Session": True,
        "import sqlalchemy.orm": True,
        "from gateway.booking.sql.uow import UnitOfWork": True,
        "from gateway.booking.sql import uow": True,
        "from gateway.db import session_factories": True,
        "def f(db: Session) -> None: ...": True,
        "x = orm.sessionmaker(engine)": True,
        "from sqlalchemy import Connection\ndef f(db: Connection) -> None: ...": False,
    }
    seen = {source: any(_orm_uses(ast.parse(source))) for source in flagged}
    assert seen == flagged
