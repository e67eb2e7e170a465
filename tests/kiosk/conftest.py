"""Kiosk fixtures: an app on the test catalogue with a registered kiosk at KNH."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.kiosks import add_kiosk
from gateway.runtime import Runtime
from tests.booking.conftest import NAIROBI, slot_id


@dataclass
class KioskClient:
    client: FlaskClient
    key: str
    rt: Runtime

    def post(self, path: str, code: object, key: str | None = None, **kw: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.key if key is None else key}"}
        return self.client.post(f"/kiosk/api/v1/{path}", json={"code": code}, headers=headers, **kw)

    def at(self, *args: int) -> None:
        self.rt.clock.at = datetime(*args, tzinfo=NAIROBI).astimezone(UTC)  # type: ignore[attr-defined]

    def book(
        self,
        dept: str = "CARD",
        when: datetime = datetime(2026, 11, 23, 8, 0),
        phone: str = "+254700000001",
        hospital: str = "KNH",
    ):  # type: ignore[no-untyped-def]
        return self.rt.booking.book(phone, slot_id(self.rt, dept, when, hospital), "ussd")


@pytest.fixture
def app(catalog: Runtime) -> Flask:
    return create_app(runtime=catalog)


@pytest.fixture
def kiosk(app: Flask, catalog: Runtime) -> KioskClient:
    key = add_kiosk(catalog.writer, "KNH", "Main hall", catalog.clock.now())
    return KioskClient(app.test_client(), key, catalog)
