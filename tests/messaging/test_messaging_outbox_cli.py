"""`ors outbox [--phone P] [--json]`."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from gateway.cli import context, ors
from gateway.messaging.jobs import deliver
from gateway.messaging.relay import relay_once
from gateway.runtime import Runtime
from tests.messaging.conftest import A, B, book


@pytest.fixture
def outbox(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(context, "runtime", lambda s=None: rt)
    book(rt, phone=A)
    book(rt, phone=B, when=datetime(2026, 11, 23, 8, 30))
    relay_once(rt)
    deliver(rt, 1)
    return rt


def run(*args: str) -> str:
    result = CliRunner().invoke(ors, ["outbox", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_one_array_of_messages_newest_first(outbox: Runtime) -> None:
    rows = json.loads(run("--json"))
    assert [(r["to"], r["status"]) for r in rows] == [(B, "queued"), (A, "sent")]
    for row in rows:
        assert {"to", "body", "status", "created_at"} <= set(row)
        assert datetime.fromisoformat(row["created_at"]) == outbox.clock.now()
        assert row["body"].startswith("Kenyatta Cardiology Mon 23 Nov")


def test_phone_filter_takes_any_format(outbox: Runtime) -> None:
    rows = json.loads(run("--json", "--phone", "0700 000002"))
    assert [r["to"] for r in rows] == [B]


def test_the_table_shows_status_and_body(outbox: Runtime) -> None:
    header, *lines = run().splitlines()
    # The test hospitals are in two time zones: a message's time stays UTC, and says so.
    assert header.split() == ["TIME", "(UTC)", "TO", "STATUS", "PROVIDER", "TEXT"]
    assert len(lines) == 2
    assert B in lines[0] and "queued" in lines[0] and "T-code" in lines[0]
    assert A in lines[1] and "sent" in lines[1]


def test_no_messages(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "runtime", lambda s=None: rt)
    assert run() == "no messages\n"
    assert json.loads(run("--json")) == []
