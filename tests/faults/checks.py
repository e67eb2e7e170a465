"""What the database and the fake provider hold, held against what the callers saw.

Read straight from PostgreSQL (not through the proxy) once a fault is over, and from the fake
provider's record of accepted messages. Phones never appear in a problem text: a caller is
named by the case that dialled and a short ordinal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from tests.faults.callers import ANSWERS, Hop, Ledger
from tests.faults.faults import Window
from tests.faults.provider import Accepted

VOUCHER = re.compile(r"Reply CANCEL (\d{10})")
KILL_MARGIN = 3.0  # a send accepted this long before a kill may be unrecorded (record_every 1 s)
OUTAGE_MARGIN = 3.0  # … or this long around a database outage (its record could not commit)


Sent = dict[tuple[str, str], list[Accepted]]  # (phone, T-code) -> accepted copies


@dataclass(frozen=True)
class BookingRow:
    phone: str
    tcode: str  # "" when the booking has no voucher
    status: str


def bookings(database_url: str) -> list[BookingRow]:
    query = """
        SELECT c.phone, coalesce(v.tcode, ''), b.status
        FROM bookings b
        JOIN citizens c ON c.id = b.citizen_id
        LEFT JOIN vouchers v ON v.booking_id = b.id
    """
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [BookingRow(*row) for row in conn.execute(query).fetchall()]


def capacity_mismatches(database_url: str) -> list[tuple[int, int, int]]:
    """Slots whose counter is not its holds plus its live remote bookings: (id, counter, rows)."""
    query = """
        SELECT s.id, s.remote_taken, h.n + b.n
        FROM slots s
        CROSS JOIN LATERAL (SELECT count(*) AS n FROM holds WHERE slot_id = s.id) h
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM bookings
            WHERE slot_id = s.id AND remote AND status = 'confirmed'
        ) b
        WHERE s.remote_taken <> h.n + b.n
    """
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query).fetchall()]


def vouchers_sent(accepted: Iterable[Accepted]) -> Sent:
    """Voucher SMS the provider accepted, by (phone, T-code), in the order accepted."""
    found: dict[tuple[str, str], list[Accepted]] = defaultdict(list)
    for message in accepted:
        match = VOUCHER.search(message.body)
        if match and not message.body.startswith("Reminder"):
            found[(message.to, match[1])].append(message)
    return found


# --- a case, right after its fault --------------------------------------------------------------


def hop_problems(hops: list[Hop], bound: float) -> list[str]:
    """Every hop answered 200 with CON/END (a polite END counts) within `bound` seconds."""
    bad = [h for h in hops if h.verdict not in ANSWERS or h.seconds > bound]
    return [
        f"session {h.session}: {h.verdict} (HTTP {h.status}) after {h.seconds:.2f} s"
        f" (bound {bound:.0f} s)"
        for h in bad[:10]
    ] + ([f"... and {len(bad) - 10} more such hops"] if len(bad) > 10 else [])


def seen_booking_problems(ledger: Ledger, case: str, rows: list[BookingRow]) -> list[str]:
    """Every caller of `case` who saw "Booked!" has exactly one booking, with that T-code."""
    by_phone: dict[str, list[BookingRow]] = defaultdict(list)
    for row in rows:
        by_phone[row.phone].append(row)
    problems = []
    for n, (phone, tcode) in enumerate(sorted(ledger.booked_in(case).items()), start=1):
        mine = by_phone.get(phone, [])
        if len(mine) != 1:
            problems.append(f"booked caller {n}: {len(mine)} booking rows instead of 1")
        elif (mine[0].tcode, mine[0].status) != (tcode, "confirmed"):
            problems.append(
                f"booked caller {n}: its booking is {mine[0].status} with another T-code"
                if mine[0].tcode != tcode
                else f"booked caller {n}: its booking is {mine[0].status}"
            )
    return problems


def capacity_problems(database_url: str) -> list[str]:
    return [
        f"slot {sid}: counter {taken} but {rows} holds + remote bookings"
        for sid, taken, rows in capacity_mismatches(database_url)[:10]
    ]


# --- the run, once SMS have settled -------------------------------------------------------------


def why_unrecorded(copy: Accepted, windows: list[Window]) -> str | None:
    """Why the sender may never have recorded this accepted copy (and so sent it again)."""
    if not copy.answered:
        return "timeout after the provider accepted"
    for w in windows:
        if any(k - KILL_MARGIN <= copy.at <= k + 0.5 for k in w.kills):
            return "worker killed after the provider accepted"
        if w.database_out and w.started - OUTAGE_MARGIN <= copy.at <= w.ended + OUTAGE_MARGIN:
            return "database unreachable after the provider accepted"
    return None
