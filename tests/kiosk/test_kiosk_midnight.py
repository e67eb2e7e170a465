"""A night clinic's 00:15 slot checks in at the kiosk at 23:50 the evening before (finding 15)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Voucher
from gateway.kiosks import add_kiosk
from gateway.runtime import Runtime
from tests.booking.conftest import NAIROBI, slot_id
from tests.clocks import clock_of

# A clinic whose quarter-hour slots start at midnight: the 00:15 slot's check-in window
# (120 minutes before, 30 after) opens at 22:15 the evening before.
NIGHT_CLINIC = """
cities:
  - code: NBO
    name: Nairobi
    hospitals:
      - code: NNH
        name: Nairobi Night Hospital
        timezone: Africa/Nairobi
        departments:
          - code: NIGHT
            name: Night Clinic
            schedules:
              - days: [mon, tue, wed, thu, fri, sat, sun]
                start: "00:00"
                end: "02:00"
                slot_minutes: 15
                places: 2
                remote_share: 1.0
"""


def test_a_0015_slot_checks_in_at_2350_the_evening_before(runtime: Runtime, tmp_path: Path) -> None:
    catalogue = tmp_path / "night.yaml"
    catalogue.write_text(NIGHT_CLINIC, encoding="utf-8")
    runtime.booking.load_catalog(catalogue)
    runtime.booking.generate_slots(3)
    sid = slot_id(runtime, "NIGHT", datetime(2026, 11, 24, 0, 15), hospital="NNH")
    booked = runtime.booking.book("+254700000001", sid, "ussd")
    key = add_kiosk(runtime.writer, "NNH", "Night desk", runtime.clock.now())
    with runtime.reader() as s:
        scanned = s.scalar(select(Voucher.payload).where(Voucher.tcode == booked.tcode))
    # Monday 23 November, 23:50 in Nairobi: the slot is Tuesday's.
    clock_of(runtime).at = datetime(2026, 11, 23, 23, 50, tzinfo=NAIROBI).astimezone(UTC)

    response = (
        create_app(runtime=runtime)
        .test_client()
        .post(
            "/kiosk/api/v1/checkin",
            json={"code": scanned},
            headers={"Authorization": f"Bearer {key}"},
        )
    )

    body = response.get_json()
    assert (response.status_code, body["status"]) == (200, "checked_in"), body
    assert body["ticket"]["queue_number"] == 1
    assert body["ticket"]["starts_at"] == "2026-11-24T00:15:00+03:00"
    assert body["ticket"]["checked_in_at"] == "2026-11-23T23:50:00+03:00"
