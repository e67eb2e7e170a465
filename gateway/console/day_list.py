"""What the day list shows: the booking core's day sheet, each voucher's SMS state, the
filters a staff member may use, and phones masked until someone asks (and is audited).

No Flask here: the routes (console.day) parse the request, this module reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from gateway.booking.domain.masking import masked_phone
from gateway.booking.domain.persons import has_phone
from gateway.booking.views.day_sheet import TABS, DaySheet, SheetRow
from gateway.messaging.voucher_sms import voucher_sms_states
from gateway.runtime import Runtime
from gateway.staff.roles import Staff

# "+2547•••••123": the one shape every staff screen masks a phone to.
masked = masked_phone


@dataclass(frozen=True)
class Filters:
    """The day list's narrowing: a department, a doctor and a tab (None: all)."""

    department: str | None = None
    doctor: str | None = None
    tab: str | None = None

    def args(self) -> dict[str, str]:
        """As URL query arguments (for links that keep the filters)."""
        pairs = (("department", self.department), ("doctor", self.doctor), ("tab", self.tab))
        return {k: v for k, v in pairs if v}


@dataclass(frozen=True)
class DayList:
    sheet: DaySheet
    sms: dict[int, str]  # voucher id -> status of the SMS that carried it
    filters: Filters
    at: datetime  # when it was read, hospital-local

    def rows(self) -> list[SheetRow]:
        tab = self.filters.tab
        return self.sheet.tab(tab) if tab else list(self.sheet.rows)

    def sms_of(self, row: SheetRow) -> str | None:
        return self.sms.get(row.voucher_id) if row.voucher_id is not None else None


def filters_for(
    staff: Staff,
    department: str | None,
    doctor: str | None,
    tab: str | None,
    default_tab: str | None = TABS[0],
) -> Filters:
    """The filters asked for, within what the staff member may see: a doctor sees only their
    own bookings whatever they ask; a missing or unknown tab means `default_tab`."""
    if staff.role == "doctor":
        doctor = staff.doctor_code
    return Filters(department or None, doctor or None, tab if tab in TABS else default_tab)


def read(runtime: Runtime, hospital: str, day: date, filters: Filters) -> DayList:
    """The day list as of now; raises NotFound for an unknown department or doctor."""
    sheet = runtime.booking.day_sheet(hospital, day, filters.department, filters.doctor)
    phones = {r.voucher_id: r.phone for r in sheet.rows if r.voucher_id and has_phone(r.phone)}
    with runtime.reader() as session:
        sms = voucher_sms_states(session, phones)
    at = runtime.clock.now().astimezone(ZoneInfo(sheet.timezone))
    return DayList(sheet, sms, filters, at)
