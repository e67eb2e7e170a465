"""Our message statuses and the one rule about them: they only move forward.

A late `sent` never overwrites `delivered`; `delivered`, `failed`, `undelivered` and `refused`
are final, so a report that comes twice, or out of order, changes nothing the second time.
The module-level names (QUEUED, SENT …) are the enum's members, kept for their many callers.
"""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for a send attempt (first or retry) at next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"  # the handset has it
    FAILED = "failed"  # refused (permanent error, retries exhausted, provider said failed)
    UNDELIVERED = "undelivered"  # accepted, then the network could not deliver it
    REFUSED = "refused"  # never sent: the recipient may not get it (recipients.py says why)


QUEUED = MessageStatus.QUEUED
SENDING = MessageStatus.SENDING
SENT = MessageStatus.SENT
DELIVERED = MessageStatus.DELIVERED
FAILED = MessageStatus.FAILED
UNDELIVERED = MessageStatus.UNDELIVERED
REFUSED = MessageStatus.REFUSED

# How far along each status is; a status may only be replaced by one further along.
RANK: dict[MessageStatus, int] = {
    QUEUED: 0,
    SENDING: 1,
    SENT: 2,
    DELIVERED: 3,
    FAILED: 3,
    UNDELIVERED: 3,
    REFUSED: 3,
}
FINAL: frozenset[MessageStatus] = frozenset({DELIVERED, FAILED, UNDELIVERED, REFUSED})
STATUSES: frozenset[MessageStatus] = frozenset(MessageStatus)

# current -> the statuses it may take: further along, never out of a final one. Derived from
# RANK so the two cannot disagree; the pure tests walk every pair.
MOVES: dict[MessageStatus, frozenset[MessageStatus]] = {
    current: frozenset()
    if current in FINAL
    else frozenset(new for new in MessageStatus if RANK[new] > RANK[current])
    for current in MessageStatus
}


def moves_forward(current: str, new: str) -> bool:
    """True when a message in `current` may take `new` (never back, never out of a final one)."""
    return new in MOVES[MessageStatus(current)]
