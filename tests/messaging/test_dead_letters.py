"""Dead letters (issue #16 item 2, review finding 7): events and messages that keep failing are
set aside after `dead_letter_after` attempts, never stall what comes behind them, are counted in
/metrics, and `ors outbox dead` / `ors outbox retry ID` list them and put them back."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from gateway.app import create_app
from gateway.booking.domain import events
from gateway.booking.models import Event
from gateway.booking.sql.events import record
from gateway.booking.sql.uow import UnitOfWork
from gateway.clock import FixedClock
from gateway.messaging import relay, statuses
from gateway.messaging.composers import Context, Draft
from gateway.messaging.models import Message
from gateway.messaging.providers import SmsProvider
from gateway.messaging.providers.console import ConsoleProvider
from gateway.messaging.providers.router import ProviderRouter
from gateway.messaging.relay import relay_all, relay_once, relay_urgent
from gateway.messaging.sending import send
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.booking.conftest import POSTGRES_ONLY
from tests.conftest import Ors
from tests.messaging.conftest import POLICY, A, B, MakeRuntime, book, message, messages

POISON = 250
SIP_CALLER = "sip:caller-with-a-long-name@pbx.example.org"  # the review's reproduction


@pytest.fixture(autouse=True)
def _single_process_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def dead_letters_counted(rt: Runtime, kind: str) -> float:
    """ors_dead_letters_total{kind} as /metrics shows it (0 before the first one)."""
    body = create_app(runtime=rt).test_client().get("/metrics").get_data(as_text=True)
    found = re.search(rf'^ors_dead_letters_total{{kind="{kind}"}} (\S+)$', body, re.M)
    return float(found[1]) if found else 0.0


def broken_composer(session: object, event: Event, ctx: Context) -> Draft | None:
    raise ValueError(f"no route to {event.payload.get('phone')}")  # a bug, naming a phone


def event_rows(rt: Runtime, type_: str) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


def vouchers_to(rt: Runtime, phone: str) -> list[Message]:
    return [m for m in messages(rt) if m.to_phone == phone and m.template == "voucher"]


# --- events -----------------------------------------------------------------------------------


def test_poison_events_never_stall_a_good_one_and_are_parked_after_five_rounds(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(relay.COMPOSERS, "ivr_retry", broken_composer)
    with UnitOfWork(rt.writer) as uow:  # one transaction: 250 would cost a second on PostgreSQL
        for i in range(POISON):
            gave_up = events.ivr_gave_up(f"call-{i}", phone=A, language="en")
            record(uow.session, gave_up, rt.clock.now())
        uow.commit()
    book(rt, phone=B)  # its booking.confirmed comes after all the poison
    counted = dead_letters_counted(rt, "event")
    limit = rt.settings.dead_letter_after

    relay_all(rt)
    assert len(vouchers_to(rt, B)) == 1  # in the first round, behind 250 failing events
    for _ in range(limit - 1):
        relay_all(rt)
    poison = event_rows(rt, "ivr.gave_up")
    assert {(e.attempts, e.relayed_at) for e in poison} == {(limit, None)}
    assert all(e.dead_at == rt.clock.now() for e in poison)
    assert poison[0].last_error == "ValueError: no route to +2547•••••001"  # masked
    assert dead_letters_counted(rt, "event") == counted + POISON

    relay_all(rt)  # a dead event is not tried again
    assert {e.attempts for e in event_rows(rt, "ivr.gave_up")} == {limit}


def test_a_failing_event_is_counted_each_round_and_relayed_once_fixed(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.booking.notice(events.ivr_gave_up("call-1", phone=A, language="en"))
    monkeypatch.setitem(relay.COMPOSERS, "ivr_retry", broken_composer)
    assert relay_all(rt) == 0 and relay_all(rt) == 0
    (event,) = event_rows(rt, "ivr.gave_up")
    assert (event.attempts, event.dead_at, event.relayed_at) == (2, None, None)
    monkeypatch.undo()
    assert relay_once(rt) == 1
    assert [m.template for m in messages(rt)] == ["ivr_retry"]


class LockNotAvailable(Exception):
    """What psycopg raises when lock_timeout ends a wait (SQLSTATE 55P03)."""

    sqlstate = "55P03"


def locked_composer(session: object, event: Event, ctx: Context) -> Draft | None:
    raise OperationalError("SELECT …", {}, LockNotAvailable("canceling statement: lock timeout"))


def test_contention_is_retried_without_counting_toward_a_dead_letter(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.booking.notice(events.ivr_gave_up("call-1", phone=A, language="en"))
    monkeypatch.setitem(relay.COMPOSERS, "ivr_retry", locked_composer)
    for _ in range(rt.settings.dead_letter_after + 1):
        assert relay_all(rt) == 0
    (event,) = event_rows(rt, "ivr.gave_up")
    assert (event.attempts, event.dead_at) == (0, None)  # a busy minute parks no voucher
    monkeypatch.undo()
    assert relay_once(rt) == 1


def test_a_broken_one_time_code_is_parked_by_the_urgent_round_without_its_code(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.booking.notice(events.phone_code(1, phone=A, code="4821", language="en"))
    monkeypatch.setitem(relay.COMPOSERS, "phone_code", broken_composer)
    for _ in range(rt.settings.dead_letter_after):
        relay_urgent(rt)
    (event,) = event_rows(rt, "phone.code")
    assert event.dead_at is not None and "code" not in event.payload
    assert relay_urgent(rt) == 0  # nothing left for the frequent round to take


@POSTGRES_ONLY
def test_a_caller_id_too_long_for_the_outbox_is_parked_on_postgres(rt: Runtime) -> None:
    """Finding 7 as reported: PostgreSQL refuses the message row; the relay used to retry the
    event every round for ever."""
    rt.booking.notice(events.ivr_gave_up("CApoison1", phone=SIP_CALLER, language="en"))
    book(rt, phone=B)
    for _ in range(rt.settings.dead_letter_after):
        relay_all(rt)
    (event,) = event_rows(rt, "ivr.gave_up")
    assert event.dead_at is not None
    assert event.last_error == (
        "StringDataRightTruncation: value too long for type character varying(20)"
    )
    assert len(vouchers_to(rt, B)) == 1


# --- messages ---------------------------------------------------------------------------------


class BuggyProvider:
    """A provider whose send fails with a bug, not with a provider's answer."""

    name = "console"

    def send(self, to: str, body: str) -> str:
        raise KeyError(f"template for {to}")


def use_provider(rt: Runtime, provider: SmsProvider) -> None:
    rt.messaging.router = ProviderRouter("console", {}, {"console": lambda: provider})


def send_until_final(rt: Runtime, message_id: int) -> int:
    """Attempt the message until it stops being retried; return the number of attempts."""
    for attempt in range(1, 20):
        if send(rt, message_id).status != "retry":
            return attempt
        clock = rt.clock
        assert isinstance(clock, FixedClock)
        clock.advance(hours=2)  # past any backoff
    raise AssertionError("never stopped retrying")


def test_a_bug_in_sending_is_retried_only_dead_letter_after_times(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime(policy=replace(POLICY, max_attempts=8))  # more than dead_letter_after
    use_provider(rt, BuggyProvider())
    book(rt)
    relay_once(rt)
    counted = dead_letters_counted(rt, "message")
    assert send_until_final(rt, 1) == rt.settings.dead_letter_after  # not the policy's 8
    m = message(rt, 1)
    assert (m.status, m.attempts) == (statuses.FAILED, rt.settings.dead_letter_after)
    assert m.last_error == (
        "dead letter: internal_error: KeyError: 'template for +2547•••••001' (after 5 attempts)"
    )
    assert dead_letters_counted(rt, "message") == counted + 1


def test_the_provider_timeout_is_the_configured_one(settings: Settings) -> None:
    from gateway.channels.africastalking.sms_client import AfricasTalkingProvider
    from gateway.channels.twilio.sms_client import TwilioProvider
    from gateway.messaging.setup import provider_factories, sending_policy
    from gateway.runtime import SMS_CLIENTS
    from gateway.settings import Secrets, Timeouts

    for seconds, lease in [(10.0, 90.0), (7.0, 90.0), (40.0, 160.0)]:
        configured = settings.with_overrides(
            timeouts=Timeouts(provider_http=seconds),
            secrets=replace(
                Secrets(),
                at_api_key="k",
                twilio_account_sid="AC" + "a" * 32,
                twilio_auth_token="t",
                twilio_from="+15005550006",
            ),
        )
        policy = sending_policy(configured)
        assert (policy.provider_timeout, policy.lease_seconds) == (seconds, lease)
        assert policy.send_window >= policy.lease_seconds / 2
        factories = provider_factories(configured, policy, SMS_CLIENTS)
        at = factories["africastalking"]()
        twilio = factories["twilio"]()
        assert isinstance(at, AfricasTalkingProvider) and isinstance(twilio, TwilioProvider)
        assert at.timeout == (min(3.05, seconds), seconds)
        assert twilio.client.http_client.timeout == seconds


# --- the command line -------------------------------------------------------------------------


def dead_rows(ors_cli: Ors) -> list[dict[str, object]]:
    code, out, err = ors_cli("outbox", "dead", "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def park_an_event(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> int:
    fixed = relay.COMPOSERS["ivr_retry"]
    monkeypatch.setitem(relay.COMPOSERS, "ivr_retry", broken_composer)
    rt.booking.notice(events.ivr_gave_up("call-1", phone=A, language="en"))
    for _ in range(rt.settings.dead_letter_after):
        relay_all(rt)
    relay.COMPOSERS["ivr_retry"] = fixed  # (not monkeypatch.undo: the CLI's patch stays)
    (event,) = event_rows(rt, "ivr.gave_up")
    return event.id


def park_a_message(rt: Runtime, when: datetime = datetime(2026, 11, 23, 8, 0)) -> int:
    use_provider(rt, BuggyProvider())
    book(rt, phone=B, when=when)
    relay_once(rt)
    (m,) = vouchers_to(rt, B)
    send_until_final(rt, m.id)
    return m.id


def test_ors_outbox_dead_lists_events_and_messages_with_phones_masked(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = park_an_event(catalog, monkeypatch)
    message_id = park_a_message(catalog)
    rows = dead_rows(ors_cli)
    assert [(r["kind"], r["id"], r["attempts"], r["phone"]) for r in rows] == [
        ("message", f"message:{message_id}", 5, B),  # parked later: first
        ("event", f"event:{event_id}", 5, A),
    ]
    assert rows[0]["what"] == "voucher" and rows[1]["what"] == "ivr.gave_up"
    assert str(rows[0]["error"]).startswith("internal_error: KeyError")
    assert {"kind", "id", "when", "attempts", "error"} <= set(rows[0])

    code, out, _ = ors_cli("outbox", "dead")
    header, *lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    # The test hospitals are in two time zones: a dead letter's time stays UTC, and says so.
    assert header.split() == ["TIME", "(UTC)", "ID", "TRIES", "PHONE", "WHAT", "ERROR"]
    assert f"message:{message_id}" in lines[0] and "+2547•••••002" in lines[0]
    assert f"event:{event_id}" in lines[1] and "ValueError" in lines[1]
    assert A not in out and B not in out


def test_ors_outbox_retry_puts_an_event_back_for_the_relay(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = park_an_event(catalog, monkeypatch)
    code, out, _ = ors_cli("outbox", "retry", f"event:{event_id}")
    assert code == 0 and f"event:{event_id}" in out
    (event,) = event_rows(catalog, "ivr.gave_up")
    assert (event.attempts, event.dead_at) == (0, None)
    assert relay_all(catalog) == 1  # the composer is fixed now
    assert [m.template for m in messages(catalog)] == ["ivr_retry"]
    assert dead_rows(ors_cli) == []


def test_ors_outbox_retry_queues_a_message_again_due_now(catalog: Runtime, ors_cli: Ors) -> None:
    message_id = park_a_message(catalog)
    use_provider(catalog, ConsoleProvider())  # the bug is fixed
    code, out, _ = ors_cli("outbox", "retry", f"message:{message_id}")
    assert (code, out.strip()) == (0, f"message:{message_id}: queued again")
    m = message(catalog, message_id)
    assert (m.status, m.attempts, m.next_attempt_at) == (statuses.QUEUED, 0, catalog.clock.now())
    assert send(catalog, message_id).status == statuses.SENT
    assert dead_rows(ors_cli) == []


BAD_IDS: list[tuple[str, str]] = [
    ("no kind", "57"),
    ("unknown kind", "letter:5"),
    ("not a number", "event:x"),
    ("no such event", "event:999"),
    ("no such message", "message:999"),
    ("no such sms", "sms:1"),
]


def test_a_bad_id_is_one_clear_line_and_a_non_zero_exit(ors_cli: Ors) -> None:
    for label, ref in BAD_IDS:
        code, out, err = ors_cli("outbox", "retry", ref)
        assert code != 0 and out == "", label
        assert len(err.strip().splitlines()) == 1 and ref in err, label


def test_a_message_that_is_not_dead_is_not_put_back(catalog: Runtime, ors_cli: Ors) -> None:
    book(catalog)
    relay_once(catalog)
    code, _, err = ors_cli("outbox", "retry", "message:1")
    assert code != 0 and "no such dead message" in err
    assert message(catalog, 1).status == statuses.QUEUED


def test_ors_outbox_still_lists_messages_without_a_subcommand(
    catalog: Runtime, ors_cli: Ors
) -> None:
    book(catalog)
    relay_once(catalog)
    code, out, _ = ors_cli("outbox", "--json", "--limit", "5")
    assert code == 0 and [r["to"] for r in json.loads(out)] == [A]
