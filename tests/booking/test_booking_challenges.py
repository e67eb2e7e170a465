"""One-time codes for voice callers: a keyed hash stored, tries counted, limits per phone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from gateway.booking.domain.errors import CodeLimit
from gateway.booking.models import PhoneChallenge
from gateway.booking.operations import challenges
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings, VoiceProof
from tests.booking.conftest import events, last_event_id
from tests.clocks import clock_of

PHONE, OTHER = "+254700000001", "+254700000002"


@pytest.fixture
def codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The codes `send` will draw, in order (the real draw is `secrets.randbelow`)."""
    queue = [4821, 1234, 9, 5555, 6666, 7777, 8888, 1111, 2222]
    monkeypatch.setattr(secrets, "randbelow", lambda n: queue.pop(0))
    yield queue


def sent_code(rt: Runtime, after: int) -> str:
    [event] = [e for e in events(rt, after) if e.type == "phone.code"]
    return str(event.payload["code"])


def send(rt: Runtime, phone: str = PHONE, language: str | None = "sw") -> str:
    before = last_event_id(rt)
    rt.booking.send_phone_code(phone, language)
    return sent_code(rt, before)


def test_send_writes_the_code_event_and_stores_only_a_keyed_hash(
    runtime: Runtime, codes: list[int]
) -> None:
    before = last_event_id(runtime)
    runtime.booking.send_phone_code("0700000001", "sw")  # normalised like every operation

    [event] = events(runtime, before)
    assert event.type == "phone.code"
    assert event.payload == {"phone": PHONE, "code": "4821", "language": "sw"}
    with runtime.reader() as s:
        [row] = s.scalars(select(PhoneChallenge))
    assert event.subject_id == str(row.id)
    assert "4821" not in row.code_hash and len(row.code_hash) == 64
    assert (row.expires_at - row.created_at).total_seconds() == 300 and row.tries == 0


def test_the_right_code_passes_once(runtime: Runtime, codes: list[int]) -> None:
    code = send(runtime)
    assert runtime.booking.check_phone_code(PHONE, code) == "passed"
    assert runtime.booking.check_phone_code(PHONE, code) == "spent"  # one code, one proof


def test_codes_keep_their_leading_zeros(runtime: Runtime, codes: list[int]) -> None:
    codes[:] = [9]
    assert send(runtime) == "0009"
    assert runtime.booking.check_phone_code(PHONE, "9") == "wrong"
    assert runtime.booking.check_phone_code(PHONE, "0009") == "passed"


@pytest.mark.parametrize(
    ("keyed", "outcomes"),
    [
        (["0000", "0000", "0000", "4821"], ["wrong", "wrong", "spent", "spent"]),
        (["0000", "0000", "4821"], ["wrong", "wrong", "passed"]),  # the third try still counts
    ],
)
def test_three_tries_then_the_code_is_spent(
    runtime: Runtime, codes: list[int], keyed: list[str], outcomes: list[str]
) -> None:
    send(runtime)
    assert [runtime.booking.check_phone_code(PHONE, k) for k in keyed] == outcomes


def test_a_code_expires_after_five_minutes(runtime: Runtime, codes: list[int]) -> None:
    code = send(runtime)
    clock_of(runtime).advance(seconds=300)
    assert runtime.booking.check_phone_code(PHONE, code) == "spent"


def test_only_the_newest_code_counts(runtime: Runtime, codes: list[int]) -> None:
    first, second = send(runtime), send(runtime)
    assert runtime.booking.check_phone_code(PHONE, first) == "wrong"
    assert runtime.booking.check_phone_code(PHONE, second) == "passed"


def test_a_code_proves_only_its_own_phone(runtime: Runtime, codes: list[int]) -> None:
    code = send(runtime)
    assert runtime.booking.check_phone_code(OTHER, code) == "spent"  # none sent to it
    send(runtime, OTHER)
    assert runtime.booking.check_phone_code(OTHER, code) == "wrong"


def test_three_codes_an_hour_and_six_a_day(runtime: Runtime, codes: list[int]) -> None:
    bk, clock = runtime.booking, clock_of(runtime)
    for _ in range(3):
        send(runtime)
    with pytest.raises(CodeLimit):
        bk.send_phone_code(PHONE, "en")
    send(runtime, OTHER)  # per phone
    clock.advance(minutes=61)
    for _ in range(3):
        send(runtime)
    clock.advance(minutes=61)
    with pytest.raises(CodeLimit) as refused:
        bk.send_phone_code(PHONE, "en")  # none this hour, but six today
    assert refused.value.code == "code_limit"
    clock.advance(hours=23)
    assert send(runtime)
    with runtime.reader() as s:
        assert s.scalar(select(func.count()).select_from(PhoneChallenge)) == 8


def test_a_refused_send_writes_nothing(runtime: Runtime, codes: list[int]) -> None:
    for _ in range(3):
        send(runtime)
    before = last_event_id(runtime)
    with pytest.raises(CodeLimit):
        runtime.booking.send_phone_code(PHONE, "en")
    assert events(runtime, before) == []


@pytest.mark.parametrize("secret_key", ["", "a-secret-key"])
def test_every_process_checks_the_codes_of_every_other(
    runtime: Runtime, settings: Settings, codes: list[int], secret_key: str
) -> None:
    keyed = settings.with_overrides(secrets=Secrets(secret_key=secret_key))
    one, other = (
        build_runtime(keyed, engine=runtime.engine, clock=runtime.clock, keys=runtime.keys)
        for _ in range(2)
    )
    code = send(one)
    assert other.booking.check_phone_code(PHONE, code) == "passed"


def test_the_key_depends_on_the_secret(runtime: Runtime) -> None:
    signing = runtime.keys.signing
    derived = challenges.challenge_key("", signing)
    assert derived == challenges.challenge_key("", signing)
    assert derived != challenges.challenge_key("a-secret-key", signing)


def test_the_limits_come_from_settings(
    runtime: Runtime, settings: Settings, codes: list[int]
) -> None:
    strict = settings.with_overrides(voice_proof=VoiceProof(per_hour=1, max_tries=1))
    rt = build_runtime(strict, engine=runtime.engine, clock=runtime.clock, keys=runtime.keys)
    send(rt)
    assert rt.booking.check_phone_code(PHONE, "0000") == "spent"
    with pytest.raises(CodeLimit):
        rt.booking.send_phone_code(PHONE, "en")
