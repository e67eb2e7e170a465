"""Finding 5: a sensitive department's name never reaches a kiosk screen or a printed ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.test import TestResponse

from gateway.booking.models import Department
from gateway.booking.service import Confirmation
from tests.kiosk.conftest import KioskClient

CCC_NAME = "HIV Comprehensive Care Clinic"
CCC_ROOM = "Block E, Room 2"


@pytest.fixture
def clinic(kiosk: KioskClient) -> KioskClient:
    """The kiosk, with the sensitive CCC given a room (the test catalogue has none)."""
    with kiosk.rt.writer() as s:
        s.execute(update(Department).where(Department.code == "CCC").values(room=CCC_ROOM))
        s.commit()
    kiosk.rt.booking.catalogue.invalidate()
    return kiosk


def book_ccc(kiosk: KioskClient) -> Confirmation:
    booked = kiosk.book("CCC", datetime(2026, 11, 23, 9, 0))
    kiosk.at(2026, 11, 23, 8, 30)
    return booked


def assert_hidden(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert CCC_NAME not in response.get_data(as_text=True), body
    ticket = body["ticket"]
    assert (ticket["department"], ticket["sensitive"], ticket["room"]) == (None, True, CCC_ROOM)
    return body


@pytest.mark.parametrize("path, status", [("lookup", "valid"), ("checkin", "checked_in")])
def test_sensitive_department_is_hidden_on_lookup_and_checkin(
    clinic: KioskClient, path: str, status: str
) -> None:
    booked = book_ccc(clinic)
    body = assert_hidden(clinic.post(path, booked.tcode))
    assert body["status"] == status


def test_sensitive_department_is_hidden_on_a_rescan(clinic: KioskClient) -> None:
    booked = book_ccc(clinic)
    clinic.post("checkin", booked.tcode)
    body = assert_hidden(clinic.post("checkin", booked.tcode))
    assert body["status"] == "already_checked_in" and body["ticket"]["queue_number"] == 1


def test_other_departments_keep_their_name(clinic: KioskClient) -> None:
    booked = clinic.book()
    clinic.at(2026, 11, 23, 7, 15)
    ticket = clinic.post("checkin", booked.tcode).get_json()["ticket"]
    assert (ticket["department"], ticket["sensitive"]) == ("Cardiology", False)


def test_the_desk_ticket_hides_it_too(clinic: KioskClient) -> None:
    booked = book_ccc(clinic)
    ticket = clinic.rt.booking.desk_check_in(booked.ref, actor="nurse")
    assert (ticket.department, ticket.sensitive, ticket.room) == (None, True, CCC_ROOM)
