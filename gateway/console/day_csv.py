"""The day list as a CSV file for a spreadsheet: UTF-8 with a BOM (so Excel reads the
accents), phone numbers only when asked for, and no cell a spreadsheet could run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from gateway.booking.domain.persons import has_phone
from gateway.console.day_list import DayList

BOM = "\ufeff"
# OWASP "CSV injection": a cell starting with one of these is read as a formula (or, for tab
# and carriage return, lets one follow); a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escaped(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def render(day: DayList, t: Mapping[str, str], with_phones: bool) -> str:
    """The rows of `day` (its filters applied), one line each, headed in the page's language."""
    header = ["col.time", "col.ref", "department", "doctor", "col.tab", "col.channel"]
    header += ["col.phone"] if with_phones else []
    header += ["col.name", "col.person", "col.voucher", "col.sms", "col.queue"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escaped(t[h]) for h in header])
    for r in day.rows():
        phone = [r.phone if has_phone(r.phone) else ""] if with_phones else []
        cells = [
            f"{r.starts_at:%H:%M}", r.ref, r.department, r.doctor or "", t[f"tab.{r.tab}"],
            t.get(f"channel.{r.channel}", r.channel), *phone, r.name or "", r.person or "",
            t.get(f"voucher.{r.voucher_state}", ""), t.get(f"sms.{day.sms_of(r)}", ""),
            str(r.queue_number or ""),
        ]  # fmt: skip
        writer.writerow([escaped(c) for c in cells])
    return BOM + out.getvalue()
