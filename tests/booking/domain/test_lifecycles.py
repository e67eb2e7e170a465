"""Every lifecycle, every operation, from every status: allowed or refused, and where it leads.

The expected tables are written out here rather than read from `domain/states.py`, so a change
to a lifecycle shows up as a failing row to look at.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from gateway.booking.domain.states import (
    ACTIVE_BOOKING_STATUSES,
    BOOKING,
    HOLD,
    INVITATION,
    LIFECYCLES,
    LIVE_VOUCHER_STATES,
    VOUCHER,
    BookingStatus,
    HoldState,
    InvitationStatus,
    Lifecycle,
    NotAllowed,
    VoucherState,
)
from gateway.booking.sql.bookings import CONFIRMED as NEW_BOOKING_STATUS
from gateway.messaging import statuses
from gateway.messaging.statuses import MessageStatus

B, V, IN, H = BookingStatus, VoucherState, InvitationStatus, HoldState

# lifecycle, operation, from, to (None: refused)
EXPECTED: dict[str, tuple[Lifecycle[Any], type[StrEnum], dict[str, tuple[set[Any], Any]]]] = {
    "booking": (
        BOOKING,
        BookingStatus,
        {
            "check_in": ({B.CONFIRMED}, B.CHECKED_IN),
            "cancel": ({B.CONFIRMED}, B.CANCELLED),
            "move": ({B.CONFIRMED}, B.CONFIRMED),
            "no_show": ({B.CONFIRMED}, B.NO_SHOW),
            "confirm_claim": ({B.CONFIRMED}, B.CONFIRMED),
            "undo_no_show": ({B.NO_SHOW}, B.CONFIRMED),
            "excuse_no_show": ({B.NO_SHOW}, B.CANCELLED),
        },
    ),
    "voucher": (
        VOUCHER,
        VoucherState,
        {
            "check_in": ({V.ISSUED}, V.USED),
            "replace": ({V.ISSUED}, V.REPLACED),
            "cancel": ({V.ISSUED}, V.CANCELLED),
            "expire": ({V.ISSUED}, V.EXPIRED),
            "reinstate": ({V.EXPIRED}, V.ISSUED),
        },
    ),
    "invitation": (
        INVITATION,
        InvitationStatus,
        {
            "book": ({IN.OPEN}, IN.BOOKED),
            "withdraw": ({IN.OPEN}, IN.CANCELLED),
            "expire": ({IN.OPEN}, IN.EXPIRED),
        },
    ),
    "hold": (
        HOLD,
        HoldState,
        {
            "take": ({H.LIVE}, H.TAKEN),
            "release": ({H.LIVE}, H.RELEASED),
            "expire": ({H.LIVE}, H.EXPIRED),
        },
    ),
}

CASES = [
    pytest.param(
        lifecycle, op, current, target if current in sources else None, id=f"{name}-{op}-{current}"
    )
    for name, (lifecycle, enum, moves) in EXPECTED.items()
    for op, (sources, target) in moves.items()
    for current in enum
]


@pytest.mark.parametrize(("lifecycle", "operation", "current", "after"), CASES)
def test_each_move_from_each_status(
    lifecycle: Lifecycle[Any], operation: str, current: StrEnum, after: StrEnum | None
) -> None:
    assert lifecycle.allows(operation, current) is (after is not None)
    assert lifecycle.allows(operation, str(current)) is (after is not None)  # stored text
    if after is None:
        with pytest.raises(NotAllowed, match=f"{operation} from '{current}'"):
            lifecycle.move(operation, current)
    else:
        assert lifecycle.move(operation, current) == after
        assert lifecycle.target(operation) == after
        assert current in lifecycle.sources(operation)


@pytest.mark.parametrize("name", EXPECTED)
def test_the_tables_hold_exactly_these_operations(name: str) -> None:
    lifecycle, _, moves = EXPECTED[name]
    assert lifecycle.name == name
    assert set(lifecycle.moves) == set(moves)


def test_sources_come_in_a_stable_order_for_the_sql_guards() -> None:
    for lifecycle in LIFECYCLES:
        for operation in lifecycle.moves:
            sources = lifecycle.sources(operation)
            assert list(sources) == sorted(sources)


@pytest.mark.parametrize(
    ("lifecycle", "final"),
    [
        (BOOKING, {B.CHECKED_IN, B.CANCELLED}),  # a no-show staff may undo
        (VOUCHER, {V.USED, V.REPLACED, V.CANCELLED}),  # a no-show's, reinstated by its undo
        (INVITATION, {IN.BOOKED, IN.CANCELLED, IN.EXPIRED}),
        (HOLD, {H.TAKEN, H.RELEASED, H.EXPIRED}),
    ],
    ids=lambda v: v.name if isinstance(v, Lifecycle) else "",
)
def test_final_statuses_are_those_no_operation_leaves(
    lifecycle: Lifecycle[Any], final: set[StrEnum]
) -> None:
    assert lifecycle.final() == final


def test_initial_statuses() -> None:
    assert BOOKING.initial == {B.CONFIRMED}
    assert VOUCHER.initial == {V.ISSUED}
    assert INVITATION.initial == {IN.OPEN, IN.BOOKED}  # a window of days, or a slot staff booked
    assert HOLD.initial == {H.LIVE}


def test_every_status_is_reachable() -> None:
    cases: list[tuple[Lifecycle[Any], type[StrEnum]]] = [
        (BOOKING, B),
        (VOUCHER, V),
        (INVITATION, IN),
        (HOLD, H),
    ]
    for lifecycle, enum in cases:
        reached = set(lifecycle.initial) | {m.target for m in lifecycle.moves.values()}
        assert reached == set(enum), lifecycle.name


def test_live_vouchers_and_active_bookings() -> None:
    assert {V.ISSUED, V.USED} == LIVE_VOUCHER_STATES
    assert {B.CONFIRMED, B.CHECKED_IN} == ACTIVE_BOOKING_STATUSES
    # the stored text finds them too (a column read back is a plain str)
    assert "issued" in LIVE_VOUCHER_STATES and "replaced" not in LIVE_VOUCHER_STATES
    assert "checked_in" in ACTIVE_BOOKING_STATUSES and "no_show" not in ACTIVE_BOOKING_STATUSES


def test_stored_values_do_not_change() -> None:
    assert [str(s) for s in B] == ["confirmed", "checked_in", "cancelled", "no_show"]
    assert [str(s) for s in V] == ["issued", "used", "replaced", "cancelled", "expired"]
    assert [str(s) for s in IN] == ["open", "booked", "expired", "cancelled"]
    assert [str(s) for s in MessageStatus] == [
        "queued",
        "sending",
        "sent",
        "delivered",
        "failed",
        "undelivered",
        "refused",
    ]


# --- messages: they only move forward ---------------------------------------------------

M = MessageStatus
FORWARD = {
    M.QUEUED: {M.SENDING, M.SENT, M.DELIVERED, M.FAILED, M.UNDELIVERED, M.REFUSED},
    M.SENDING: {M.SENT, M.DELIVERED, M.FAILED, M.UNDELIVERED, M.REFUSED},
    M.SENT: {M.DELIVERED, M.FAILED, M.UNDELIVERED, M.REFUSED},
    M.DELIVERED: set(),
    M.FAILED: set(),
    M.UNDELIVERED: set(),
    M.REFUSED: set(),
}


@pytest.mark.parametrize(
    ("current", "new"), [(c, n) for c in MessageStatus for n in MessageStatus], ids=str
)
def test_message_statuses_only_move_forward(current: MessageStatus, new: MessageStatus) -> None:
    assert statuses.moves_forward(str(current), str(new)) is (new in FORWARD[current])
    assert statuses.MOVES[current] == FORWARD[current]


def test_message_status_names_stay_importable() -> None:
    assert (statuses.QUEUED, statuses.SENT, statuses.DELIVERED) == ("queued", "sent", "delivered")
    assert {M.DELIVERED, M.FAILED, M.UNDELIVERED, M.REFUSED} == statuses.FINAL
    assert set(MessageStatus) == statuses.STATUSES


def test_a_new_booking_starts_in_the_booking_lifecycle() -> None:
    """What insert_booking writes as a new booking's status is one BOOKING may start in."""
    assert NEW_BOOKING_STATUS is BookingStatus.CONFIRMED
    assert NEW_BOOKING_STATUS in BOOKING.initial
