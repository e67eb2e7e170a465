"""A department and its hospital as every operation needs them: codes, names, time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from gateway.booking.domain.names import in_language, sms_name


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
    # The catalogue's names in other languages, GSM-7 ({"sw": ...}), and the hospital's short
    # SMS names (None: its name, shortened): see domain.names.
    names_gsm: Mapping[str, str] = field(default_factory=dict, hash=False)
    hospital_names_gsm: Mapping[str, str] = field(default_factory=dict, hash=False)
    hospital_sms_name: str | None = None
    hospital_sms_names: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The same names as written, for screens that show any script (the kiosk).
    names: Mapping[str, str] = field(default_factory=dict, hash=False)
    hospital_names: Mapping[str, str] = field(default_factory=dict, hash=False)

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
            d.names_gsm or {},
            h.names_gsm or {},
            h.sms_name,
            h.sms_names or {},
            d.names or {},
            h.names or {},
        )

    def name_in(self, language: str | None) -> str:
        """The department's name for a phone screen or an SMS in `language` (GSM-7)."""
        return in_language(self.name_gsm, self.names_gsm, language)

    def hospital_name_in(self, language: str | None) -> str:
        """The hospital's name for a phone screen in `language` (GSM-7)."""
        return in_language(self.hospital_name_gsm, self.hospital_names_gsm, language)

    def sms_name_in(self, language: str | None) -> str:
        """The hospital's short name for an SMS in `language`; never its code."""
        return sms_name(
            self.hospital_name_gsm,
            self.hospital_sms_name,
            self.hospital_sms_names,
            language,
        )
