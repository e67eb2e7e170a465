"""The bench catalogue (docs/catalogue.md) and config file, sized for every scenario.

- Walk cities (scenario a): 3 cities x 3 hospitals x 5 departments, 16 slots a day with 50
  remote places each, every day: far more places than 32 callers can book in a run.
- Flash City (scenario b): one hospital, one department, ONE slot (tomorrow 10:00) with
  exactly 100 remote places (200 places, remote share 0.5).
- Kiosk City (scenario c): a 24-hour department, 10-minute slots with 1,000 remote places,
  in a time zone where the next two hours fall on the same local day, so vouchers booked for
  the coming slots check in now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bench.stack import REPO

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WALK_CITIES = ("Bench Nairobi", "Bench Mombasa", "Bench Kisumu")
DEPARTMENTS = ("Cardiology", "Dental", "Eye Clinic", "Maternity", "Outpatients")
FLASH_CITY, FLASH_HOSPITAL, FLASH_TZ = "Flash City", "FLASH", "Africa/Nairobi"
FLASH_REMOTE = 100
KIOSK_CITY, KIOSK_HOSPITAL = "Kiosk City", "KIOSK"
KIOSK_SLOT_MINUTES = 10
# Kiosk hospital time zone: the first whose local clock leaves two hours before midnight.
KIOSK_ZONES = (
    "Africa/Nairobi",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Asia/Kolkata",
)
SLOT_DAYS = 7  # `ors slots generate --days 7`: the flash weekday occurs exactly once


@dataclass(frozen=True)
class Catalogue:
    path: Path
    kiosk_tz: str
    flash_day: str  # ISO date of the one flash slot (hospital-local)


def kiosk_zone(now: datetime) -> str:
    for name in KIOSK_ZONES:
        local = now.astimezone(ZoneInfo(name))
        if 1 <= local.hour <= 20:
            return name
    raise RuntimeError("no kiosk time zone found with two hours left before midnight")


def _schedule(
    days: list[str], start: str, end: str, minutes: int, places: int, share: float
) -> dict[str, Any]:
    return {
        "days": days,
        "start": start,
        "end": end,
        "slot_minutes": minutes,
        "places": places,
        "remote_share": share,
    }


def catalogue_data(now: datetime) -> tuple[dict[str, Any], str, str]:
    cities: list[dict[str, Any]] = []
    for c, city in enumerate(WALK_CITIES, start=1):
        hospitals = []
        for h in range(1, 4):
            departments = [
                {
                    "code": f"D{d}",
                    "name": name,
                    "room": f"Block {d}",
                    "schedules": [_schedule(list(WEEKDAYS), "08:00", "16:00", 30, 100, 0.5)],
                }
                for d, name in enumerate(DEPARTMENTS, start=1)
            ]
            hospitals.append(
                {
                    "code": f"BH{c}{h}",
                    "name": f"{city.split()[1]} Hospital {h}",
                    "timezone": "Africa/Nairobi",
                    "departments": departments,
                }
            )
        cities.append({"code": f"BC{c}", "name": city, "hospitals": hospitals})

    flash_day = (now.astimezone(ZoneInfo(FLASH_TZ)) + timedelta(days=1)).date()
    cities.append(
        {
            "code": "FLASHC",
            "name": FLASH_CITY,
            "hospitals": [
                {
                    "code": FLASH_HOSPITAL,
                    "name": "Flash Hospital",
                    "timezone": FLASH_TZ,
                    "departments": [
                        {
                            "code": "MORNING",
                            "name": "Specialist Clinic",
                            "schedules": [
                                _schedule(
                                    [WEEKDAYS[flash_day.weekday()]],
                                    "10:00",
                                    "10:30",
                                    30,
                                    2 * FLASH_REMOTE,
                                    0.5,
                                )
                            ],
                        }
                    ],
                }
            ],
        }
    )
    tz = kiosk_zone(now)
    cities.append(
        {
            "code": "KIOSKC",
            "name": KIOSK_CITY,
            "hospitals": [
                {
                    "code": KIOSK_HOSPITAL,
                    "name": "Kiosk Hospital",
                    "timezone": tz,
                    "departments": [
                        {
                            "code": "ALLDAY",
                            "name": "Walk-in Clinic",
                            "room": "Hall A",
                            "schedules": [
                                _schedule(
                                    list(WEEKDAYS),
                                    "00:00",
                                    "24:00",
                                    KIOSK_SLOT_MINUTES,
                                    1000,
                                    1.0,
                                )
                            ],
                        }
                    ],
                }
            ],
        }
    )
    return {"cities": cities}, tz, flash_day.isoformat()


def write_catalogue(workdir: Path, now: datetime | None = None) -> Catalogue:
    data, tz, flash_day = catalogue_data(now or datetime.now(UTC))
    path = workdir / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return Catalogue(path, tz, flash_day)


def write_config(workdir: Path) -> Path:
    """The repository's config.yaml with the bench's changes: AT as SMS provider, data dir."""
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("app", {})["data_dir"] = str(workdir / "var")
    config.setdefault("messaging", {})["provider"] = "africastalking"
    channels = config.setdefault("channels", {})
    channels.setdefault("africastalking", {})["username"] = "sandbox"
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
