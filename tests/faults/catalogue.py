"""The faults' catalogue (docs/catalogue.md): one city, one hospital, three departments.

Sessions run on the days two to six days ahead only (hospital-local), so no booking of the
run is within a reminder's reach (24 h and 3 h before): the only SMS a caller gets is the
voucher, and the checks can count copies of it. 10-minute slots with 50 remote places each
give thousands of places, far more than the callers of a run book.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

TIMEZONE = "Africa/Nairobi"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEPARTMENTS = ("Cardiology", "Dental", "Outpatients")
SLOT_DAYS = 7  # `ors slots generate --days 7`: each scheduled weekday occurs once


def catalogue(now: datetime) -> dict[str, Any]:
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    days = sorted({WEEKDAYS[(today + timedelta(days=n)).weekday()] for n in range(2, 7)})
    schedule = {
        "days": days,
        "start": "08:00",
        "end": "16:00",
        "slot_minutes": 10,
        "places": 100,
        "remote_share": 0.5,
    }
    departments = [
        {"code": f"F{i}", "name": name, "schedules": [schedule]}
        for i, name in enumerate(DEPARTMENTS, start=1)
    ]
    hospital = {
        "code": "FAULTH",
        "name": "Fault Hospital",
        "timezone": TIMEZONE,
        "departments": departments,
    }
    return {"cities": [{"code": "FAULTC", "name": "Fault City", "hospitals": [hospital]}]}


def write_catalogue(workdir: Path) -> Path:
    path = workdir / "catalogue.yaml"
    path.write_text(yaml.safe_dump(catalogue(datetime.now(UTC)), sort_keys=False), "utf-8")
    return path
