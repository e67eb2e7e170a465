"""Data the scenarios need, made through the gateway's own services (never raw inserts).

- `book_vouchers`: thousands of bookings for the kiosk hospital's coming slots, through the
  booking service, returning each voucher's T-code and signed QR payload.
- `relay_without_jobs`: turn the outbox into Message rows (the relay's own code) without
  enqueuing, so the dispatch benchmark can time enqueue -> sent by itself.
- `db_*`: the checks the scenarios verify in PostgreSQL afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import select

from bench.stack import DATABASE_URL
from gateway.booking.models import Department, Hospital, Slot, Voucher
from gateway.messaging.relay import relay_all
from gateway.runtime import build_runtime
from gateway.settings import load_settings

PG_URL = DATABASE_URL.replace("+psycopg", "")


class NoJobs:
    """A JobQueue that enqueues nothing (the messages stay `queued` in the table)."""

    def enqueue(self, message_ids: Sequence[int], urgent: bool = False) -> bool:
        return True

    def enqueue_in(
        self, message_id: int, seconds: float, attempt: int, urgent: bool = False
    ) -> bool:
        return True


def book_vouchers(
    env: Mapping[str, str], hospital: str, count: int, phone_base: int, threads: int = 4
) -> list[tuple[str, str]]:
    """Book `count` places in the hospital's slots starting 3-115 minutes from now."""
    rt = build_runtime(load_settings(env=env))
    try:
        now = rt.clock.now()
        with rt.reader() as s:
            slot_ids = list(
                s.scalars(
                    select(Slot.id)
                    .join(Department, Slot.department_id == Department.id)
                    .join(Hospital, Department.hospital_id == Hospital.id)
                    .where(
                        Hospital.code == hospital,
                        Slot.starts_at > now + timedelta(minutes=3),
                        Slot.starts_at < now + timedelta(minutes=115),
                    )
                    .order_by(Slot.starts_at)
                )
            )
        if not slot_ids:
            raise RuntimeError(f"no {hospital} slots in the next two hours")

        def book(i: int) -> str:
            slot_id = slot_ids[i % len(slot_ids)]
            return rt.booking.book(f"+254{phone_base + i}", slot_id, "ussd").tcode

        with ThreadPoolExecutor(threads) as pool:
            tcodes = list(pool.map(book, range(count)))
        with rt.reader() as s:
            payloads = dict(
                s.execute(select(Voucher.tcode, Voucher.payload).where(Voucher.tcode.in_(tcodes)))
                .tuples()
                .all()
            )
        return [(t, payloads[t]) for t in tcodes]
    finally:
        rt.close()


def relay_without_jobs(env: Mapping[str, str]) -> int:
    """Relay every pending outbox event into Message rows; return how many events."""
    rt = build_runtime(load_settings(env=env), jobs=NoJobs())
    try:
        return relay_all(rt)
    finally:
        rt.close()


def query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(PG_URL) as conn:
        return conn.execute(sql, params).fetchall()


def db_flash(hospital: str) -> dict[str, int]:
    ((slots, capacity, taken),) = query(
        "SELECT count(*), coalesce(sum(s.remote_capacity), 0), coalesce(sum(s.remote_taken), 0) "
        "FROM slots s JOIN departments d ON d.id = s.department_id "
        "JOIN hospitals h ON h.id = d.hospital_id WHERE h.code = %s",
        hospital,
    )
    ((booked, holds),) = query(
        "SELECT (SELECT count(*) FROM bookings b JOIN departments d ON d.id = b.department_id "
        "        JOIN hospitals h ON h.id = d.hospital_id "
        "        WHERE h.code = %s AND b.status IN ('confirmed', 'checked_in')), "
        "       (SELECT count(*) FROM holds x JOIN slots s ON s.id = x.slot_id "
        "        JOIN departments d ON d.id = s.department_id "
        "        JOIN hospitals h ON h.id = d.hospital_id WHERE h.code = %s)",
        hospital,
        hospital,
    )
    return {
        "slots": slots,
        "remote_capacity": capacity,
        "remote_taken": taken,
        "bookings": booked,
        "holds": holds,
    }


def db_checked_in(hospital: str) -> dict[str, int]:
    ((checked, numbers, highest),) = query(
        "SELECT count(*), count(DISTINCT b.queue_number), coalesce(max(b.queue_number), 0) "
        "FROM bookings b JOIN departments d ON d.id = b.department_id "
        "JOIN hospitals h ON h.id = d.hospital_id "
        "WHERE h.code = %s AND b.status = 'checked_in'",
        hospital,
    )
    return {"checked_in": checked, "distinct_queue_numbers": numbers, "highest": highest}


def db_messages() -> dict[str, int]:
    return dict(query("SELECT status, count(*) FROM messages GROUP BY status"))


def db_unrelayed_vouchers() -> int:
    """Confirmed bookings whose voucher SMS is not a Message row yet."""
    ((count,),) = query(
        "SELECT count(*) FROM events WHERE relayed_at IS NULL AND type = 'booking.confirmed'"
    )
    return int(count)


def db_sent_once(ids: list[int]) -> dict[str, int]:
    """Of these messages: how many were attempted more than once, and how many distinct
    provider ids they hold; of all messages, how many went to Africa's Talking."""
    ((retried, distinct),) = query(
        "SELECT count(*) FILTER (WHERE attempts <> 1), count(DISTINCT provider_message_id) "
        "FROM messages WHERE id = ANY(%s)",
        ids,
    )
    ((at_sent,),) = query(
        "SELECT count(*) FROM messages WHERE provider = 'africastalking' "
        "AND provider_message_id IS NOT NULL"
    )
    return {"retried": int(retried), "distinct_ids": int(distinct), "at_sent": int(at_sent)}


def db_queued_ids() -> list[int]:
    return [r[0] for r in query("SELECT id FROM messages WHERE status = 'queued' ORDER BY id")]


def db_sent_span(ids: list[int]) -> tuple[int, float, float]:
    """Of these messages: (sent count, epoch of the first and of the last `sent_at`).

    Only the given ids: the worker's sweeps may add messages of their own (reminders)."""
    ((count, first, last),) = query(
        "SELECT count(*), extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)) "
        "FROM messages WHERE status IN ('sent', 'delivered') AND id = ANY(%s)",
        ids,
    )
    return int(count), float(first or 0), float(last or 0)
