"""The current voucher of a booking: the one rule, for vouchers already in hand.

A booking has at most one live voucher (LIVE_VOUCHER_STATES: issued or used); its current
voucher is that one, else the latest it had. `gateway.booking.sql.vouchers.CURRENT_FIRST` is
the same rule as an ORDER BY, for statements that pick the voucher in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from gateway.booking.domain.states import LIVE_VOUCHER_STATES


class VoucherLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def state(self) -> str: ...


V = TypeVar("V", bound=VoucherLike)


def current(vouchers: Iterable[V]) -> V | None:
    """The live voucher, else the latest (highest id); None for a booking without any."""
    return max(vouchers, key=lambda v: (v.state in LIVE_VOUCHER_STATES, v.id), default=None)
