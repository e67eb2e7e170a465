"""Kiosk fixtures: an app on the test catalogue with a registered kiosk at KNH."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.booking.service import Confirmation
from gateway.kiosk_desk import BookingDesk
from gateway.kiosks import add_kiosk
from gateway.runtime import Runtime, build_runtime
from kiosk import api as kiosk_api
from tests.booking.conftest import NAIROBI, slot_id
from tests.clocks import clock_of


@dataclass
class KioskClient:
    client: FlaskClient
    key: str
    rt: Runtime

    def post(self, path: str, code: object, key: str | None = None, **kw: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.key if key is None else key}"}
        return self.client.post(f"/kiosk/api/v1/{path}", json={"code": code}, headers=headers, **kw)

    def at(
        self, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
    ) -> None:
        clock_of(self.rt).at = datetime(
            year, month, day, hour, minute, second, tzinfo=NAIROBI
        ).astimezone(UTC)

    def book(
        self,
        dept: str = "CARD",
        when: datetime = datetime(2026, 11, 23, 8, 0),
        phone: str = "+254700000001",
        hospital: str = "KNH",
    ) -> Confirmation:
        return self.rt.booking.book(phone, slot_id(self.rt, dept, when, hospital), "ussd")


@pytest.fixture
def app(catalog: Runtime) -> Flask:
    return create_app(runtime=catalog)


@pytest.fixture
def kiosk(app: Flask, catalog: Runtime) -> KioskClient:
    key = add_kiosk(catalog.writer, "KNH", "Main hall", catalog.clock.now())
    return KioskClient(app.test_client(), key, catalog)


def runtime_with(catalog: Runtime, **settings: Any) -> Runtime:
    """Another runtime on the same database, clock and keys, with some settings changed."""
    changed = catalog.settings.with_overrides(**settings)
    return build_runtime(changed, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)


def kiosk_app(runtime: Runtime, storage_uri: str, limit: str = "30 per minute") -> Flask:
    """Only the kiosk API, its failed-code limit on `storage_uri` (Redis, or a dead one)."""
    app = Flask(__name__)
    app.extensions[kiosk_api.EXTENSION] = BookingDesk(runtime)
    app.register_blueprint(kiosk_api.create_api(limit, storage_uri))
    return app


@pytest.fixture
def hanging_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers (127.0.0.1 only)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join(5)
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def dead_redis() -> str:
    """A Redis URL on a port nobody listens on: connections are refused."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"redis://127.0.0.1:{port}/0"
