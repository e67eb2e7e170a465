"""Real-name registration over voice, through `POST /hooks/at/voice` (issue #18, item 1).

A caller id can be forged, so a voice caller keys a national ID only once the SMS code has
proven the phone; a name cannot be keyed at all, so a caller whose person has none is told to
register by USSD or at the desk, and the call ends politely. The clock stands at Monday 23
November 2026, 06:00 in Nairobi (tests/data/catalog.yaml).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from gateway.settings import BookingSettings, Settings
from tests.channels import test_at_voice
from tests.channels.conftest import CALLER
from tests.channels.voice_calls import DIAL, AtCall, sent_code

RAW_ID = "23456789"
# Book > Nairobi > KNH > Cardiology > Mon 23 Nov > 08:00.
TO_TIME = ("1", "2", "1", "1", "1", "1")


@pytest.fixture
def rt(catalog: Runtime, settings: Settings) -> Runtime:
    voice = test_at_voice.voice_runtime(catalog, settings)
    secrets = replace(voice.booking.settings.secrets, id_hash_key="test-id-hash-key")
    voice.booking.settings = voice.booking.settings.with_overrides(secrets=secrets)
    rules = replace(voice.settings.booking.defaults, real_name=True)
    voice.booking.rules = BookingSettings(hospitals={"KNH": rules})
    return voice


@pytest.fixture
def call(rt: Runtime) -> AtCall:
    return AtCall(create_app(runtime=rt).test_client(), token=test_at_voice.TOKEN)


def _to_time(call: AtCall) -> None:
    call.run([(DIAL, [], False)])
    for key in TO_TIME:
        call.press(key)


def test_a_caller_without_a_name_is_told_to_register_by_ussd_or_at_the_desk(
    call: AtCall, rt: Runtime
) -> None:
    _to_time(call)

    # A closing screen, as after booking: said, offered once more, then goodbye.
    assert "register your name and ID first" in call.heard
    assert "or ask at the hospital desk" in call.heard and "Goodbye." in call.heard
    assert rt.booking.current_hold(CALLER) is None
    with rt.reader() as s:
        assert s.scalar(select(Citizen.national_id_hash).where(Citizen.phone == CALLER)) is None


def test_a_caller_with_a_name_keys_the_id_after_the_sms_code(call: AtCall, rt: Runtime) -> None:
    rt.booking.register_person(CALLER, name="Achieng Otieno")  # given on USSD earlier
    _to_time(call)
    assert not call.over and rt.booking.registration_needs(CALLER) == ("national_id",)

    call.press(f"{sent_code(rt.reader)}#")  # the code proves the phone: the ID may be keyed
    call.press(f"{RAW_ID}#")

    assert rt.booking.registration_needs(CALLER) == ()
    assert rt.booking.current_hold(CALLER) is not None  # the time chosen is held: confirm next
    assert RAW_ID not in call.heard
