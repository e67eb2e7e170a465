"""A department and its hospital as every operation needs them: codes, names, time zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    code: str
    name: str  # as written in the catalogue (kiosk ticket)
    name_gsm: str  # for USSD and SMS
    room: str | None
    sensitive: bool
    hospital_id: int
    hospital_code: str
    hospital_name: str
    hospital_name_gsm: str
    timezone: ZoneInfo

    @classmethod
    def of(cls, d: Any, h: Any) -> DepartmentInfo:
        """From a department and its hospital: rows of the cache's SELECTs, or ORM objects."""
        return cls(
            d.id,
            d.code,
            d.name,
            d.name_gsm,
            d.room,
            bool(d.sensitive),
            h.id,
            h.code,
            h.name,
            h.name_gsm,
            ZoneInfo(h.timezone),
        )
