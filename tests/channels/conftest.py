"""A phone that talks to `POST /hooks/at/ussd` exactly as Africa's Talking does.

Every hop posts the five form fields AT sends: `sessionId` stays the same for the whole
session and `text` is all input so far joined with "*" (empty on the dial).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.runtime import Runtime
from menus.gsm7 import bad_chars

HOOK = "/hooks/at/ussd"
EVENTS = "/hooks/at/ussd/events"
SERVICE_CODE = "*384*123#"
NETWORK = "63902"  # Safaricom
CALLER = "+254700000001"
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "gateway" / "demo" / "catalog.yaml"
DIAL = None  # a transcript row that starts a new session (new sessionId, text "")
Row = tuple[str | None, Sequence[str], bool]  # (input, substrings expected, session ends?)

_numbers = count(1)


def other_phone() -> str:
    """A fresh Kenyan mobile number for another citizen."""
    return f"+2547111{next(_numbers):05d}"


def assert_ussd_body(body: str, limit: int = 160) -> None:
    """A body AT accepts: CON/END prefix, at most `limit` characters after it, GSM-7 basic."""
    assert body[:4] in ("CON ", "END "), f"no CON/END prefix: {body!r}"
    assert len(body) - 4 <= limit, f"{len(body) - 4} characters:\n{body}"
    assert not bad_chars(body), f"non GSM-7 {bad_chars(body)!r}:\n{body}"


@dataclass
class AtPhone:
    """One handset: `dial` opens a session, `press` answers the screen shown."""

    client: FlaskClient
    number: str = CALLER
    query: str = ""  # e.g. "?token=..." when the hook requires one
    session_id: str = ""
    inputs: list[str] = field(default_factory=list)
    body: str = ""

    def form(self) -> dict[str, str]:
        return {
            "sessionId": self.session_id,
            "serviceCode": SERVICE_CODE,
            "phoneNumber": self.number,
            "networkCode": NETWORK,
            "text": "*".join(self.inputs),
        }

    def post(self) -> str:
        response = self.client.post(HOOK + self.query, data=self.form())
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "text/plain"
        self.body = response.get_data(as_text=True)
        assert_ussd_body(self.body)
        return self.body

    def dial(self) -> str:
        self.session_id, self.inputs = f"ATUid_{uuid.uuid4().hex}", []
        return self.post()

    def press(self, typed: str) -> str:
        assert self.session_id, "dial first"
        self.inputs.append(typed)
        return self.post()

    def lines(self) -> list[str]:
        return self.body[4:].split("\n")

    def run(self, rows: Iterable[Row]) -> str:
        """Play transcript rows; each row's substrings must be on the screen it gets."""
        for typed, expected, end in rows:
            body = self.dial() if typed is DIAL else self.press(typed)
            for part in expected:
                assert part in body, f"after {typed!r}: {part!r} not in\n{body}"
            assert body.startswith("END " if end else "CON "), f"after {typed!r}:\n{body}"
        return self.body


@pytest.fixture
def app(catalog: Runtime) -> Flask:
    return create_app(runtime=catalog)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def phone(client: FlaskClient) -> AtPhone:
    return AtPhone(client)
