"""A USSD session belongs to the phone that opened it, and a booking's idempotency key to the
caller (security review findings 3 and 25): a session id that comes back from another phone —
a provider reusing ids after expiry, or a forged hop — never shows or returns the first
caller's booking."""

from __future__ import annotations

from flask.testing import FlaskClient

from gateway.runtime import Runtime
from tests.channels.conftest import AtPhone
from tests.channels.test_at_ussd_transcripts import MAIN, TO_CONFIRM, TO_TIMES, tcode_on

FIRST, SECOND = "+254700000043", "+254700000044"


def test_a_reused_session_id_books_for_the_second_caller(
    client: FlaskClient, catalog: Runtime
) -> None:
    first = AtPhone(client, number=FIRST)
    first.run(TO_CONFIRM)
    first_tcode = tcode_on(first.press("1"))
    catalog.ussd.sessions.delete(first.session_id)  # the session expired (TTL), as AT reuses ids

    second = AtPhone(client, number=SECOND, session_id=first.session_id)
    second.post()  # the dial, with the old session id
    second.run(TO_TIMES[1:-1])
    assert "08:00 (1 left)" in second.press("1")  # the first caller has one of the two
    second.press("2")  # 08:30 this time
    second_tcode = tcode_on(second.press("1"))

    assert second_tcode != first_tcode
    [mine] = catalog.booking.upcoming(SECOND)
    assert mine.tcode == second_tcode and mine.starts_at.strftime("%H:%M") == "08:30"
    assert [b.tcode for b in catalog.booking.upcoming(FIRST)] == [first_tcode]


def test_a_hop_from_another_phone_starts_its_own_session(client: FlaskClient) -> None:
    owner = AtPhone(client, number=FIRST)
    owner.run(TO_CONFIRM)  # the owner is on the confirm screen, holding a place
    intruder = AtPhone(client, number=SECOND, session_id=owner.session_id)
    intruder.inputs = list(owner.inputs)
    body = intruder.post()
    for line in MAIN:
        assert line in body
    assert "Cardiology" not in body
    # The owner's session was replaced, not merged: their next hop starts afresh too, and
    # nothing was booked for anyone.
    assert "Booked!" not in owner.press("1")
