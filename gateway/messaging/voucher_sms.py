"""Where the SMS carrying each voucher stands, for the staff console's day list.

A voucher reaches the citizen in the message of the event that issued it (`booking.confirmed`,
`booking.rebooked`, `invitation.issued`): that event's payload names the voucher. The read
starts from the phones (messages are indexed by phone) and keeps the voucher messages only,
so a day list of a few hundred rows costs one indexed query however large the outbox grows.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.booking.models import Event
from gateway.messaging.models import Message

# The composers' templates that carry a T-code and its link (composers.voucher, .rebooked,
# .invitation); reminders show the T-code too but are not how the voucher was delivered.
VOUCHER_TEMPLATES = frozenset({"voucher", "rebooked", "invited"})


def voucher_sms_states(session: Session, phones_by_voucher: Mapping[int, str]) -> dict[int, str]:
    """The status of the newest message that carried each voucher (voucher id -> status);
    vouchers without such a message are left out."""
    if not phones_by_voucher:
        return {}
    found = session.execute(
        select(Message.id, Message.status, Event.payload)
        .join(Event, Event.id == Message.event_id)
        .where(
            Message.to_phone.in_(set(phones_by_voucher.values())),
            Message.template.in_(VOUCHER_TEMPLATES),
        )
        .order_by(Message.id)
    )
    states: dict[int, str] = {}
    for _id, status, payload in found:
        voucher_id = payload.get("voucher_id") if isinstance(payload, dict) else None
        if isinstance(voucher_id, int) and voucher_id in phones_by_voucher:
            states[voucher_id] = status  # later messages overwrite: the newest wins
    return states
