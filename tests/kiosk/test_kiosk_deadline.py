"""A kiosk call that cannot finish within the hop deadline gets 503 `unavailable` in time.

The check-in hangs (a gate the test holds shut, as a database that never answers): the kiosk
hears `unavailable` within the deadline, the check-in, let go later, records nothing, the
breaker answers the next scan at once, and after its cool-down the kiosk checks citizens in
again. The deadline is 0.5 s here instead of 5 s.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Booking
from gateway.booking.sql.deadline import LateCommit
from gateway.clock import FixedClock
from gateway.kiosks import add_kiosk
from gateway.runtime import Runtime
from gateway.web import hops
from gateway.web.breaker import COOL_DOWN
from tests.gates import Gate
from tests.kiosk.conftest import KioskClient, runtime_with

DEADLINE = 0.5
ANSWERED_WITHIN = DEADLINE + 1.0  # the acceptance bound, with slack for a loaded machine


@pytest.fixture
def slow(catalog: Runtime) -> KioskClient:
    """A kiosk at KNH on an app whose hop deadline is 0.5 s."""
    rt = runtime_with(catalog, timeouts=replace(catalog.settings.timeouts, hop_deadline=DEADLINE))
    key = add_kiosk(rt.writer, "KNH", "Main hall", rt.clock.now())
    return KioskClient(create_app(runtime=rt).test_client(), key, rt)


def checked_in_at(kiosk: KioskClient, ref: str) -> object:
    with kiosk.rt.reader() as s:
        return s.scalar(select(Booking.checked_in_at).where(Booking.ref == ref))


def test_a_hung_check_in_is_unavailable_in_time_and_records_nothing(
    slow: KioskClient, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = slow.book()
    slow.at(2026, 11, 23, 7, 15)
    gate, real_check_in = Gate(), slow.rt.booking.check_in
    monkeypatch.setattr(slow.rt.booking, "check_in", gate.wrap(real_check_in))

    started = time.monotonic()
    response = slow.post("checkin", booked.tcode)
    waited = time.monotonic() - started

    assert response.status_code == 503 and waited < ANSWERED_WITHIN, waited
    body = response.get_json()
    assert body["status"] == "unavailable" and body["ticket"] is None and body["message"]
    assert response.headers["Retry-After"] == "2"
    assert slow.post("lookup", booked.tcode).get_json()["status"] == "unavailable"  # breaker

    [late] = gate.open_and_settle()
    assert isinstance(late, LateCommit)  # the abandoned check-in committed nothing
    assert checked_in_at(slow, booked.ref) is None
    monkeypatch.setattr(slow.rt.booking, "check_in", real_check_in)
    # The fault is over: the recovery check-in gets the production deadline, so a slow machine
    # cannot turn it into another apology.
    hops.guard(slow.client.application).deadline_seconds = 5.0

    clock.advance(seconds=COOL_DOWN.total_seconds())
    answer = slow.post("checkin", booked.tcode)
    assert (answer.status_code, answer.get_json()["status"]) == (200, "checked_in")
    assert answer.get_json()["ticket"]["queue_number"] == 1
    assert checked_in_at(slow, booked.ref) is not None


def test_unavailable_is_said_in_the_kiosk_language(
    slow: KioskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = slow.book()
    gate = Gate()
    monkeypatch.setattr(slow.rt.booking, "check_in", gate.wrap(slow.rt.booking.check_in))

    response = slow.client.post(
        "/kiosk/api/v1/lookup?lang=sw",
        json={"code": booked.tcode},
        headers={"Authorization": f"Bearer {slow.key}"},
    )

    assert response.status_code == 503
    assert response.get_json()["message"].startswith("Huduma ina shughuli nyingi.")
    assert gate.open_and_settle() == [None]  # a lookup writes nothing
