"""What the desk's CLI tests share: the phone they register persons on, reading the id a
registering command prints, and a refusal's one line."""

from __future__ import annotations

from datetime import datetime

from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.conftest import Ors

MOTHER = "+254700000401"


def card(rt: Runtime, day: int, hour: int = 8, minute: int = 0) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, minute))


def person_id(out: str) -> int:
    """The id a registering command prints alone on its last line: `person 17`."""
    last = out.splitlines()[-1]
    assert last.startswith("person ") and last.split()[1].isdigit(), out
    return int(last.split()[1])


def refusal(result: tuple[int, str, str]) -> tuple[int, str]:
    """Exit code and the one line on stderr, which carries no internal `code(facts)` text."""
    code, out, err = result
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, (out, err)
    assert "=" not in err, err
    return code, err.strip()


def add(ors_cli: Ors, name: str, *more: str, phone: str = MOTHER) -> int:
    """Add a dependant to `phone` at the desk; their id."""
    code, out, err = ors_cli("citizens", "register", "--guardian", phone, "--name", name, *more)
    assert code == 0, err
    return person_id(out)


def no_phone(ors_cli: Ors, name: str) -> int:
    """Register a person without a phone at the desk; their id."""
    code, out, err = ors_cli("citizens", "register", "--no-phone", "--name", name)
    assert code == 0, err
    return person_id(out)
