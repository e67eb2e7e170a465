"""Our message statuses and the one rule about them: they only move forward.

A late `sent` never overwrites `delivered`; `delivered`, `failed`, `undelivered` and `refused`
are final, so a report that comes twice, or out of order, changes nothing the second time.
"""

from __future__ import annotations

QUEUED = "queued"  # waiting for a send attempt (first or retry) at next_attempt_at
SENDING = "sending"  # claimed by a worker until lease_until
SENT = "sent"  # accepted by the provider
DELIVERED = "delivered"  # the handset has it
FAILED = "failed"  # refused (permanent error, retries exhausted, provider said failed)
UNDELIVERED = "undelivered"  # accepted, then the network could not deliver it
REFUSED = "refused"  # never sent: the recipient may not get it (recipients.py says why)

RANK = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, FAILED: 3, UNDELIVERED: 3, REFUSED: 3}
FINAL = frozenset({DELIVERED, FAILED, UNDELIVERED, REFUSED})
STATUSES = frozenset(RANK)


def moves_forward(current: str, new: str) -> bool:
    """True when a message in `current` may take `new` (never back, never out of a final one)."""
    return current not in FINAL and RANK[new] > RANK[current]
