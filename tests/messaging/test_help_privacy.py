"""HELP / MSAADA by SMS: what is kept (phone, bookings, SMS sent), why (to book and remind), for
how long (the `retention:` settings) and how to ask for a copy or erasure (the hospital desk).
The menus' privacy line points here."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.settings import Retention
from tests.messaging.conftest import MakeRuntime
from tests.messaging.sms_phone import SmsPhone, Texter

PHONE = "+254700000901"


def help_texter(make_runtime: MakeRuntime, **changes: object) -> Texter:
    rt = make_runtime(**changes)
    return Texter(rt, SmsPhone(create_app(runtime=rt).test_client(), "at"))


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        (
            "HELP",
            "We keep your phone number, bookings and the SMS we send, to book and remind you: "
            "SMS texts for 30 days, the rest until 730 days without use. For a copy or erasure, "
            "ask at the hospital desk",
        ),
        (
            "MSAADA",
            "Tunahifadhi nambari yako, miadi yako na SMS tunazotuma, ili kuweka miadi na "
            "kukukumbusha: maandishi ya SMS kwa siku 30, mengine hadi siku 730 bila matumizi. "
            "Kupata nakala au kufuta, uliza kwenye dawati la hospitali",
        ),
    ],
)
def test_help_says_what_is_kept_why_how_long_and_how_to_ask(
    make_runtime: MakeRuntime, keyword: str, expected: str
) -> None:
    assert help_texter(make_runtime).send(PHONE, keyword).endswith(expected)


def test_help_names_the_configured_retention(make_runtime: MakeRuntime) -> None:
    texter = help_texter(
        make_runtime, retention=Retention(message_bodies_days=14, inactive_days=365)
    )
    assert "SMS texts for 14 days, the rest until 365 days without use" in texter.send(
        PHONE, "HELP"
    )
