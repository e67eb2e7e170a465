"""Acceptance (issue #18, item 2): an invitation over a window of days, taken up through the
real hooks — USSD (Africa's Talking) and voice (Africa's Talking and Twilio). The invitation
closes, one booking holds it, and one voucher SMS goes.

The clock stands at Monday 23 November 2026, 06:00 in Nairobi; Cardiology at Kenyatta National
Hospital has two remote places every half hour from 08:00 (tests/data/catalog.yaml).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.booking.models import Booking
from gateway.booking.operations.invitations import Offer
from gateway.cli.choices import department
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.booking.conftest import use_rules
from tests.channels import test_at_voice, test_twilio_voice
from tests.channels.conftest import CALLER, DIAL, AtPhone
from tests.channels.test_voice_spoofing import codes_sent
from tests.channels.voice_calls import EIGHT, KNH, AtCall, TwilioCall, VoiceCall
from tests.channels.voice_calls import MONDAY as MONDAY_SAID
from tests.messaging.sms_phone import deliver, sent_to

MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
# Days as a call says them (MONDAY_SAID, from voice_calls, is the day the clock stands at).
TUESDAY_SAID = "Tuesday the twenty-fourth of November"
WEDNESDAY_SAID = "Wednesday the twenty-fifth of November"


def invite(rt: Runtime) -> str:
    """Staff invite the caller to Cardiology, any time on Tuesday or Wednesday."""
    offer = Offer(window_from=TUESDAY, window_to=WEDNESDAY, expires=WEDNESDAY)
    return rt.booking.invite(CALLER, "KNH", "CARD", "dr-x", offer).ref


def assert_taken_up(rt: Runtime, ref: str, channel: str) -> None:
    """The invitation is booked as the caller's one booking, and one voucher SMS went."""
    [listed] = rt.booking.invitations(hospital_code="KNH")
    [booking] = rt.booking.upcoming(CALLER)
    assert (listed.ref, listed.status, listed.booking_ref) == (ref, "booked", booking.ref)
    assert rt.booking.invitations(phone=CALLER) == []
    with rt.reader() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 1
        assert s.scalar(select(Booking.channel).where(Booking.ref == booking.ref)) == channel
    deliver(rt)
    sent = [m.template for m in sent_to(rt, CALLER) if m.template != "phone_code"]
    assert sent == ["invitation_open", "voucher"]  # one voucher (voice also sent the code)


def test_an_invitation_taken_up_over_ussd(phone: AtPhone, catalog: Runtime) -> None:
    ref = invite(catalog)

    phone.run(
        [
            (DIAL, ["2 My appointments"], False),
            ("2", ["Your appointments", "1 Cardiology: choose a time by Wed 25 Nov"], False),
            # Only the window's days, though Monday has free times too.
            ("1", ["Choose day", "1 Tue 24 Nov", "2 Wed 25 Nov", "0 Back"], False),
            ("2", ["Wed 25 Nov: choose time", "1 08:00 (2 left)"], False),
            ("1", ["Cardiology", "Kenyatta National Hospital", "Wed 25 Nov 08:00"], False),
            ("1", ["Booked!", "Cardiology", "Wed 25 Nov 08:00", "T-code: "], True),
            (DIAL, [], False),
            ("2", ["Your appointments", "1 25 Nov 08:00 Cardiology"], False),
        ]
    )

    assert "choose a time" not in phone.body
    assert_taken_up(catalog, ref, "ussd")


def test_an_invitation_past_the_release_horizon_over_ussd(phone: AtPhone, catalog: Runtime) -> None:
    use_rules(catalog, horizon_days=1)  # released today: up to Tuesday
    ref = invite(catalog)

    phone.run(
        [
            (DIAL, [], False),
            ("2", ["1 Cardiology: choose a time by Wed 25 Nov"], False),
            ("1", ["Choose day", "1 Tue 24 Nov", "2 Wed 25 Nov"], False),
            ("2", ["Wed 25 Nov: choose time", "1 08:00 (2 left)"], False),
            ("1", ["Wed 25 Nov 08:00"], False),
            ("1", ["Booked!", "Wed 25 Nov 08:00"], True),
        ]
    )

    assert_taken_up(catalog, ref, "ussd")
    # The public still sees only the released days.
    card = department(catalog.booking, "KNH", "CARD").id
    assert catalog.booking.open_days(card) == [MONDAY, TUESDAY]


@pytest.mark.parametrize("provider", ["at", "twilio"])
def test_an_invitation_taken_up_over_voice(
    catalog: Runtime, settings: Settings, provider: str
) -> None:
    call: VoiceCall
    if provider == "at":
        rt = test_at_voice.voice_runtime(catalog, settings)
        call = AtCall(create_app(runtime=rt).test_client(), token=test_at_voice.TOKEN)
    else:
        rt = test_twilio_voice.voice_runtime(catalog, settings)
        client = create_app(runtime=rt).test_client()
        call = TwilioCall(client, token=test_twilio_voice.TOKEN, base_url=test_twilio_voice.PUBLIC)
    ref = invite(rt)

    call.run(
        [
            (DIAL, ["To hear or cancel your appointments, press 2."], False),
            (
                "2",
                [f"To choose a time at {KNH} by Wednesday the twenty-fifth of November, press 1."],
                False,
            ),
            # A caller id is only a claim: the SMS code proves the phone before a time is
            # chosen for the owner's invitation.
            ("1", ["We sent a code by SMS to this number."], False),
        ]
    )
    call.run(
        [
            (
                f"{phone_code(rt)}#",
                ["Choose day.", f"For {TUESDAY_SAID}, press 1.", f"For {WEDNESDAY_SAID}, press 2."],
                False,
            ),
            ("1", [f"Times on {TUESDAY_SAID}.", f"For {EIGHT}, 2 free, press 1."], False),
            ("1", ["Cardiology.", f"{KNH}.", "To confirm this appointment, press 1."], False),
            ("1", ["Booked!", f"{TUESDAY_SAID} at {EIGHT}.", "Your T-code is "], False),
        ]
    )

    assert MONDAY_SAID not in call.heard
    assert_taken_up(rt, ref, "ivr")


def phone_code(rt: Runtime) -> str:
    """The one-time code the gateway sent by SMS to the phone (what its owner reads)."""
    [event] = codes_sent(rt)
    return str(event.payload["code"])


@pytest.mark.parametrize("provider", ["at"])
def test_a_voice_caller_without_the_sms_code_books_no_invitation(
    catalog: Runtime, settings: Settings, provider: str
) -> None:
    rt = test_at_voice.voice_runtime(catalog, settings)
    call = AtCall(create_app(runtime=rt).test_client(), token=test_at_voice.TOKEN)
    ref = invite(rt)
    call.run([(DIAL, [], False), ("2", [], False), ("1", [], False)])
    for guess in ("0000#", "1111#", "2222#"):
        if guess[:4] != phone_code(rt):
            call.press(guess)
    assert "Choose day." not in call.heard
    with rt.reader() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0
    assert ref  # the invitation stays open for its owner
