"""A phone that texts the gateway as Africa's Talking and Twilio deliver inbound SMS.

AT posts its incoming-messages callback form; Twilio its incoming-message webhook,
signed with the official RequestValidator over the public URL. `deliver` then runs what the
worker would: the relay, and one send attempt per queued message through the real SDKs.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from gateway.messaging import statuses
from gateway.messaging.models import Message
from gateway.messaging.relay import relay_all
from gateway.messaging.sending import send
from gateway.runtime import Runtime
from tests.messaging.conftest import PUBLIC, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN

AT_HOOK, TWILIO_HOOK = "/hooks/at/sms", "/hooks/twilio/sms"
SHORTCODE = "20880"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
_ids = itertools.count(1)


def at_form(phone: str, text: str, message_id: str | None = None) -> dict[str, str]:
    return {
        "from": phone,
        "to": SHORTCODE,
        "text": text,
        "id": message_id or f"ATXid_{uuid.uuid4().hex}",
        "date": "2026-11-23 06:04:45",
        "linkId": f"SampleLinkId{next(_ids)}",
        "networkCode": "63902",
        "cost": "KES 1.00",
    }


def twilio_form(phone: str, text: str, **extra: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "KE",
        "To": TWILIO_FROM,
        "MessagingServiceSid": "",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": phone,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def sign(form: dict[str, str], path: str = TWILIO_HOOK) -> dict[str, str]:
    return {
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, form)
    }


@dataclass
class SmsPhone:
    client: FlaskClient
    provider: str  # "at" | "twilio"

    def text(self, phone: str, body: str, **extra: str) -> str:
        """Send one SMS; return the HTTP body (TwiML for Twilio, "OK" for AT)."""
        if self.provider == "at":
            response = self.client.post(AT_HOOK, data=at_form(phone, body))
        else:
            form = twilio_form(phone, body, **extra)
            response = self.client.post(TWILIO_HOOK, data=form, headers=sign(form))
        assert response.status_code == 200, response.status_code
        assert response.mimetype == ("text/plain" if self.provider == "at" else "text/xml")
        return response.get_data(as_text=True)


def deliver(rt: Runtime) -> None:
    """Relay the outbox and make one send attempt of every queued message."""
    relay_all(rt)
    with rt.reader() as s:
        ids = list(s.scalars(select(Message.id).where(Message.status == statuses.QUEUED)))
    for message_id in ids:
        send(rt, message_id)


def sent_to(rt: Runtime, phone: str, template: str | None = None) -> list[Message]:
    with rt.reader() as s:
        query = select(Message).where(Message.to_phone == phone).order_by(Message.id)
        if template is not None:
            query = query.where(Message.template == template)
        return list(s.scalars(query))


def replies_since(rt: Runtime, phone: str, after_id: int) -> list[Message]:
    """Messages made from `sms.reply` events (answers to commands) after message `after_id`."""
    from gateway.booking.models import Event

    with rt.reader() as s:
        return list(
            s.scalars(
                select(Message)
                .join(Event, Event.id == Message.event_id)
                .where(Event.type == "sms.reply", Message.to_phone == phone, Message.id > after_id)
                .order_by(Message.id)
            )
        )


def last_message_id(rt: Runtime) -> int:
    from sqlalchemy import func

    with rt.reader() as s:
        return s.scalars(select(func.coalesce(func.max(Message.id), 0))).one()


def twiml_message(body: str) -> str:
    """The text of the one <Message> of a TwiML reply, or "" for an empty <Response/>."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text or "" if messages else ""


@dataclass
class Texter:
    """Texts the gateway and returns its answer, whichever provider carries it."""

    rt: Runtime
    phone_of: SmsPhone

    @property
    def provider(self) -> str:
        return self.phone_of.provider

    def send(self, phone: str, body: str, **extra: str) -> str:
        before = last_message_id(self.rt)
        http_body = self.phone_of.text(phone, body, **extra)
        if self.provider == "twilio":
            assert not replies_since(self.rt, phone, before)  # answered in TwiML only
            return twiml_message(http_body)
        assert http_body == "OK"
        relay_all(self.rt)
        replies = replies_since(self.rt, phone, before)
        assert len(replies) <= 1
        return replies[0].body if replies else ""
