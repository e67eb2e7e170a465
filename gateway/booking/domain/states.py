"""The lifecycles of the booking core: every status a row can take, and which operation moves it.

One table per lifecycle (booking, voucher, invitation, hold), in the style of
`gateway.messaging.statuses`: an operation names the statuses it may start from and the one it
leaves. The SQL layer builds each conditional UPDATE's `WHERE status …` guard from these tables
(`gateway.booking.sql.guards`): those guards are what keep a transition the table does not
allow from being written. `Lifecycle.move` and `final` only read the table (the tests use them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"  # holds a place; the citizen is expected
    CHECKED_IN = "checked_in"  # arrived: kiosk or desk
    # By the citizen, staff, a closed session or an unconfirmed claim; or a no-show staff
    # undid after its check-in window (cancelled by staff, with their reason).
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"  # the check-in window closed without them


class VoucherState(StrEnum):
    """A voucher's states: one set for the T-code and its QR (tcode/)."""

    ISSUED = "issued"  # valid: the kiosk checks it in
    USED = "used"  # checked in
    REPLACED = "replaced"  # the booking moved; a newer voucher was sent
    CANCELLED = "cancelled"  # the booking was cancelled
    EXPIRED = "expired"  # the day passed without a check-in


class InvitationStatus(StrEnum):
    OPEN = "open"  # waiting for the citizen to pick a slot in the window
    BOOKED = "booked"  # a booking holds it (staff chose the slot, or the citizen did)
    EXPIRED = "expired"  # the window passed
    CANCELLED = "cancelled"  # withdrawn by staff, or the person was erased


class HoldState(StrEnum):
    """A hold is a row while it is live; each way out deletes it and names why in its event."""

    LIVE = "live"
    TAKEN = "taken"  # its place became a booking's
    RELEASED = "released"  # the caller chose another slot, hung up or cancelled
    EXPIRED = "expired"  # its minutes ran out


S = TypeVar("S", bound=StrEnum)


class NotAllowed(Exception):
    """An operation asked for a transition its lifecycle does not have (a bug, not a refusal)."""


@dataclass(frozen=True)
class Move(Generic[S]):
    sources: frozenset[S]
    target: S


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """The allowed moves of one kind of row: operation name -> (from which statuses, to which)."""

    name: str
    initial: frozenset[S]  # what a new row may start as
    moves: Mapping[str, Move[S]]

    def allows(self, operation: str, current: str) -> bool:
        return current in self.moves[operation].sources

    def sources(self, operation: str) -> tuple[S, ...]:
        """The statuses `operation` starts from, in a stable order (for SQL guards)."""
        return tuple(sorted(self.moves[operation].sources))

    def target(self, operation: str) -> S:
        return self.moves[operation].target

    def move(self, operation: str, current: str) -> S:
        """The status after `operation` from `current`; NotAllowed when the table has no such move."""
        if not self.allows(operation, current):
            raise NotAllowed(f"{self.name}: {operation} from {str(current)!r}")
        return self.target(operation)

    def final(self) -> frozenset[S]:
        """Statuses no operation leaves."""
        left = {s for move in self.moves.values() for s in move.sources}
        reached = {move.target for move in self.moves.values()} | set(self.initial)
        return frozenset(s for s in reached if s not in left)


def _move(sources: set[S], target: S) -> Move[S]:
    return Move(frozenset(sources), target)


_B = BookingStatus
BOOKING: Lifecycle[BookingStatus] = Lifecycle(
    "booking",
    initial=frozenset({_B.CONFIRMED}),
    moves={
        "check_in": _move({_B.CONFIRMED}, _B.CHECKED_IN),
        "cancel": _move({_B.CONFIRMED}, _B.CANCELLED),
        # Same hospital: the booking keeps its reference and moves to the new slot.
        "move": _move({_B.CONFIRMED}, _B.CONFIRMED),
        "no_show": _move({_B.CONFIRMED}, _B.NO_SHOW),
        # Staff undo a mistaken no-show (operations.no_shows): while the check-in window is
        # open the citizen is expected again; after it, the booking ends as cancelled by staff,
        # which is no strike of any kind.
        "undo_no_show": _move({_B.NO_SHOW}, _B.CONFIRMED),
        "excuse_no_show": _move({_B.NO_SHOW}, _B.CANCELLED),
        # The phone's owner keeps a voice claim: it stays confirmed and now counts as theirs.
        "confirm_claim": _move({_B.CONFIRMED}, _B.CONFIRMED),
    },
)

_V = VoucherState
VOUCHER: Lifecycle[VoucherState] = Lifecycle(
    "voucher",
    initial=frozenset({_V.ISSUED}),
    moves={
        "check_in": _move({_V.ISSUED}, _V.USED),
        "replace": _move({_V.ISSUED}, _V.REPLACED),
        "cancel": _move({_V.ISSUED}, _V.CANCELLED),
        "expire": _move({_V.ISSUED}, _V.EXPIRED),
        # A no-show undone while its check-in window is open: the same T-code checks in again.
        "reinstate": _move({_V.EXPIRED}, _V.ISSUED),
    },
)
# "The current voucher" of a booking, everywhere: the live one (issued or used), else the
# latest of its vouchers. A booking has at most one live voucher.
LIVE_VOUCHER_STATES: frozenset[VoucherState] = frozenset({_V.ISSUED, _V.USED})

_I = InvitationStatus
INVITATION: Lifecycle[InvitationStatus] = Lifecycle(
    "invitation",
    initial=frozenset({_I.OPEN, _I.BOOKED}),  # a window of days, or a slot staff booked
    moves={
        "book": _move({_I.OPEN}, _I.BOOKED),
        "withdraw": _move({_I.OPEN}, _I.CANCELLED),
        "expire": _move({_I.OPEN}, _I.EXPIRED),
    },
)

_H = HoldState
HOLD: Lifecycle[HoldState] = Lifecycle(
    "hold",
    initial=frozenset({_H.LIVE}),
    moves={
        "take": _move({_H.LIVE}, _H.TAKEN),
        "release": _move({_H.LIVE}, _H.RELEASED),
        "expire": _move({_H.LIVE}, _H.EXPIRED),
    },
)

# Who cancelled a booking (`bookings.cancelled_by`); the sweep's own releases name "system".
CITIZEN, STAFF = "citizen", "staff"

# Bookings that hold a place and count toward the per-person limits.
ACTIVE_BOOKING_STATUSES: frozenset[BookingStatus] = frozenset({_B.CONFIRMED, _B.CHECKED_IN})

LIFECYCLES: tuple[
    Lifecycle[BookingStatus]
    | Lifecycle[VoucherState]
    | Lifecycle[InvitationStatus]
    | Lifecycle[HoldState],
    ...,
] = (BOOKING, VOUCHER, INVITATION, HOLD)
