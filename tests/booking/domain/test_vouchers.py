"""The current voucher: the live one (issued or used), else the latest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway.booking.domain.vouchers import current


@dataclass(frozen=True)
class V:
    id: int
    state: str


CASES = [
    ("none", [], None),
    ("one issued", [V(1, "issued")], 1),
    ("replaced, then issued", [V(1, "replaced"), V(2, "issued")], 2),
    ("used before a later cancelled", [V(1, "used"), V(2, "cancelled")], 1),
    ("no live one: the latest", [V(1, "replaced"), V(2, "cancelled")], 2),
    ("order of loading does not matter", [V(2, "issued"), V(1, "replaced")], 2),
]


@pytest.mark.parametrize(("label", "vouchers", "expected"), CASES, ids=[c[0] for c in CASES])
def test_current_voucher(label: str, vouchers: list[V], expected: int | None) -> None:
    found = current(vouchers)
    assert (found.id if found else None) == expected
