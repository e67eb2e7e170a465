"""`ors kiosk list|revoke|rotate` in-process on the test runtime (both backends)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from gateway.booking.models import Kiosk
from gateway.kiosks import hash_key
from gateway.runtime import Runtime
from tests.clocks import clock_of
from tests.conftest import Ors

KIOSK_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


def add(ors_cli: Ors, hospital: str, name: str) -> str:
    code, out, _ = ors_cli("kiosk", "add", "--hospital", hospital, "--name", name)
    assert code == 0
    return out.splitlines()[-1]


def kiosk_row(rt: Runtime, kiosk_id: int) -> Kiosk:
    with rt.reader() as s:
        return s.scalars(select(Kiosk).where(Kiosk.id == kiosk_id)).one()


def test_list_shows_every_kiosk_and_never_a_key(catalog: Runtime, ors_cli: Ors) -> None:
    first, _ = add(ors_cli, "KNH", "Main hall"), add(ors_cli, "MCH", "Side door")
    ors_cli("kiosk", "revoke", "2")
    code, out, _ = ors_cli("kiosk", "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "HOSPITAL", "CREATED", "LAST", "USED", "REVOKED", "NAME"]
    # Hospital-local times (the test clock is 03:00 UTC, 06:00 in Nairobi).
    assert re.fullmatch(r"\s+1  KNH\s+2026-11-23 06:00  -\s+no\s+Main hall", rows[0]), rows
    assert re.fullmatch(r"\s+2  MCH\s+2026-11-23 06:00  -\s+2026-11-23 06:00  Side door", rows[1])
    assert first not in out and hash_key(first) not in out


def test_revoke_is_recorded_once(catalog: Runtime, ors_cli: Ors) -> None:
    add(ors_cli, "KNH", "Main hall")
    # Hospital-local time (the test clock is 03:00 UTC, 06:00 in Nairobi).
    assert ors_cli("kiosk", "revoke", "1") == (0, "kiosk 1 revoked at 2026-11-23 06:00\n", "")
    first = kiosk_row(catalog, 1).revoked_at
    clock_of(catalog).at = clock_of(catalog).at.replace(hour=5)
    assert ors_cli("kiosk", "revoke", "1")[1] == "kiosk 1 revoked at 2026-11-23 06:00\n"
    assert kiosk_row(catalog, 1).revoked_at == first


def test_rotate_prints_the_new_key_alone_on_the_last_line(catalog: Runtime, ors_cli: Ors) -> None:
    old = add(ors_cli, "KNH", "Main hall")
    code, out, _ = ors_cli("kiosk", "rotate", "1")
    new = out.splitlines()[-1]
    assert code == 0 and KIOSK_KEY.fullmatch(new) and new != old
    row = kiosk_row(catalog, 1)
    assert row.key_hash == hash_key(new) and row.rotated_at is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["kiosk", "revoke", "9"], "ors: no such kiosk 9\n"),
        (["kiosk", "rotate", "9"], "ors: no such kiosk 9\n"),
    ],
)
def test_unknown_kiosk_is_one_line(ors_cli: Ors, args: list[str], message: str) -> None:
    assert ors_cli(*args) == (2, "", message)


def test_a_revoked_kiosk_cannot_be_rotated_back(catalog: Runtime, ors_cli: Ors) -> None:
    add(ors_cli, "KNH", "Main hall")
    ors_cli("kiosk", "revoke", "1")
    assert ors_cli("kiosk", "rotate", "1") == (
        2,
        "",
        "ors: kiosk 1 is revoked for good: `ors kiosk add` registers a new one\n",
    )
