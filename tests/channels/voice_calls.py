"""Phones that call the voice hooks exactly as Africa's Talking and Twilio do.

Both speak the same transcript rows: (key, fragments the caller hears, call over?). A key is
DIAL (a new call), SILENCE (the caller presses nothing) or what the caller presses. Every
response is checked as it comes in: 200, the provider's content type, XML whose root and
verbs are the provider's own, and under 40 seconds of speech at 150 words a minute.

What the caller hears after silence differs in shape, not in words: Africa's Talking plays
the fallback of the last answer itself and then follows its Redirect (a request without
`dtmfDigits`); Twilio's Gather posts an empty `Digits` and the answer carries the hint.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from gateway.booking.models import Event

AT_HOOK = "/hooks/at/voice"
TWILIO_HOOK = "/hooks/twilio/voice"
TWILIO_STATUS = "/hooks/twilio/voice/status"
CALLER = "+254700000001"
IVR_NUMBER = "+254711082000"
ACCOUNT_SID = "AC" + "0" * 32
DIAL: None = None


class _Silence:
    def __repr__(self) -> str:
        return "SILENCE"


SILENCE = _Silence()
Key = str | None | _Silence
Row = tuple[Key, Sequence[str], bool]

AT_VERBS = frozenset({"Response", "GetDigits", "Say", "Play", "Redirect", "Reject"})
TWILIO_VERBS = frozenset({"Response", "Gather", "Say", "Play", "Redirect", "Hangup"})
MAX_WORDS = 40 * 150 // 60  # 40 seconds at 150 words a minute
TCODE_SPOKEN = re.compile(r"Your T-code is (\d) (\d) (\d), (\d) (\d) (\d), (\d) (\d) (\d) (\d)\.")
# One option sentence, "For Nairobi, press 2." or "To book an appointment, press 1.": the
# words from the start of the sentence up to ", press N.".
OPTION_SPOKEN = re.compile(r"(?:^|(?<=[.!?] ))([^.!?]+?), press (\d)\.")


def says(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter("Say")]


def check_voice_xml(body: str, verbs: frozenset[str]) -> ET.Element:
    """Parse a provider answer: the right verbs only, and under 40 seconds of speech."""
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
    root = ET.fromstring(body)
    assert root.tag == "Response", root.tag
    unknown = {el.tag for el in root.iter()} - verbs
    assert not unknown, f"verbs {unknown} in {body}"
    spoken = sum(len(text.split()) for text in says(root))
    assert spoken < MAX_WORDS, f"{spoken} words:\n{' '.join(says(root))}"
    return root


def sent_code(reader: Callable[[], Session]) -> str:
    """The one-time code last sent by SMS (what the phone's real holder reads on it)."""
    with reader() as s:
        event = s.scalars(
            select(Event).where(Event.type == "phone.code").order_by(Event.id.desc())
        ).first()
    assert event is not None, "no one-time code was sent"
    return str(event.payload["code"])


def spoken_tcode(text: str) -> str:
    """The T-code as said digit by digit in its groups ("4 8 2, 9 1 3, 5 5 7 5")."""
    found = TCODE_SPOKEN.search(text)
    assert found, f"no T-code read in groups in:\n{text}"
    return "".join(found.groups())


@dataclass
class VoiceCall(ABC):
    """What both phones share: the last answer, and playing transcript rows."""

    client: FlaskClient
    number: str = CALLER
    call_id: str = ""
    root: ET.Element = field(default_factory=lambda: ET.Element("Response"))
    heard: str = ""  # what the caller heard on the last step
    over: bool = False  # the last answer ends the call

    def run(self, rows: Iterable[Row]) -> str:
        for key, expected, over in rows:
            if key is DIAL:
                self.dial()
            elif isinstance(key, _Silence):
                self.silence()
            else:
                self.press(key)
            for part in expected:
                assert part in self.heard, f"after {key!r}: {part!r} not in\n{self.heard}"
            assert self.over is over, f"after {key!r}: over={self.over}\n{self.heard}"
        return self.heard

    def options(self) -> dict[str, str]:
        """The options read out on the last answer: the sentence before ", press N" -> N
        ("For Nairobi" -> "2", "To book an appointment" -> "1")."""
        return dict(OPTION_SPOKEN.findall(self.heard))

    @abstractmethod
    def dial(self) -> str:
        """Each provider's phone posts what that provider posts."""

    @abstractmethod
    def press(self, key: str) -> str:
        """Each provider's phone posts what that provider posts."""

    @abstractmethod
    def silence(self) -> str:
        """Each provider's phone posts what that provider posts."""


@dataclass
class AtCall(VoiceCall):
    """One call through Africa's Talking Voice."""

    token: str = ""

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "isActive": "1",
            "sessionId": self.call_id,
            "callerNumber": self.number,
            "destinationNumber": IVR_NUMBER,
            "direction": "Inbound",
            **extra,
        }

    def post(self, url: str, form: dict[str, str]) -> ET.Element:
        response = self.client.post(url, data=form)
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "application/xml"
        self.root = check_voice_xml(response.get_data(as_text=True), AT_VERBS)
        getdigits = self.root.findall("GetDigits")
        assert all(len(g) == 1 for g in getdigits), "GetDigits wraps exactly one prompt"
        self.over = not getdigits
        return self.root

    def dial(self) -> str:
        self.call_id = f"ATVId_{uuid.uuid4().hex}"
        query = f"?token={self.token}" if self.token else ""
        self.post(AT_HOOK + query, self.form())
        self.heard = " ".join(says(self.root))
        return self.heard

    def press(self, key: str) -> str:
        [callback] = {g.get("callbackUrl") for g in self.root.iter("GetDigits")}
        assert callback, "no GetDigits to answer"
        self.post(_local(callback), self.form(dtmfDigits=key))
        self.heard = " ".join(says(self.root))
        return self.heard

    def silence(self) -> str:
        """AT plays the fallback after GetDigits, then follows the Redirect if there is one."""
        fallback = self.fallback()
        redirect = self.root.find("Redirect")
        if redirect is None:
            self.heard, self.over = fallback, True
            self.hang_up()
            return self.heard
        self.post(_local(redirect.text or ""), self.form())
        self.heard = " ".join([fallback, *says(self.root)])
        return self.heard

    def fallback(self) -> str:
        """What AT says after the last GetDigits when nothing is pressed."""
        children = list(self.root)
        last = max(i for i, el in enumerate(children) if el.tag == "GetDigits")
        return " ".join(el.text or "" for el in children[last + 1 :] if el.tag == "Say")

    def hang_up(self) -> None:
        """The final notice AT sends when the call is over."""
        query = f"?token={self.token}" if self.token else ""
        form = self.form(isActive="0", durationInSeconds="42", currencyCode="KES", amount="1")
        response = self.client.post(AT_HOOK + query, data=form)
        assert response.status_code == 200
        assert ET.fromstring(response.get_data(as_text=True)).tag == "Response"


@dataclass
class TwilioCall(VoiceCall):
    """One call through Twilio Voice, every request signed with the auth token."""

    token: str = ""
    base_url: str = "http://127.0.0.1:5000"

    def params(self, status: str, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.call_id,
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "To": IVR_NUMBER,
            "CallStatus": status,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def post(self, path: str, params: dict[str, str]) -> ET.Element:
        response = self.client.post(path, data=params, headers=self.sign(path, params))
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "text/xml"
        self.root = check_voice_xml(response.get_data(as_text=True), TWILIO_VERBS)
        self.over = self.root.find("Gather") is None
        if self.over:
            assert self.root.find("Hangup") is not None, "an ending answer hangs up"
        self.heard = " ".join(says(self.root))
        return self.root

    def sign(self, path: str, params: dict[str, str]) -> dict[str, str]:
        signature = RequestValidator(self.token).compute_signature(self.base_url + path, params)
        return {"X-Twilio-Signature": signature}

    def dial(self) -> str:
        self.call_id = "CA" + uuid.uuid4().hex
        self.post(TWILIO_HOOK, self.params("ringing"))
        return self.heard

    def press(self, key: str) -> str:
        return self._gather(key)

    def silence(self) -> str:
        return self._gather("")

    def _gather(self, digits: str) -> str:
        gather = self.root.find("Gather")
        assert gather is not None, "no Gather to answer"
        assert gather.get("actionOnEmptyResult") == "true" and gather.get("input") == "dtmf"
        action = gather.get("action") or ""
        assert action.startswith(self.base_url), action
        self.post(_local(action), self.params("in-progress", Digits=digits, FinishedOnKey=""))
        return self.heard

    def hang_up(self, status: str = "completed") -> None:
        params = self.params(status, CallDuration="42")
        response = self.client.post(
            TWILIO_STATUS, data=params, headers=self.sign(TWILIO_STATUS, params)
        )
        assert response.status_code == 200


def _local(url: str) -> str:
    """The path and query of an absolute URL: the test client is the public host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- transcripts both providers play (the test catalogue, Monday 23 November 2026, 06:00) ---

MAIN = [
    "Hospital appointments.",
    "To book an appointment, press 1.",
    "To hear or cancel your appointments, press 2.",
    "To change the language, press 3.",
    "For help, press 4.",
    "Press 0 to hear this again.",
]
# Days and times are said in words.
MONDAY = "Monday the twenty-third of November"
EIGHT = "eight o'clock in the morning"
NINE = "nine o'clock in the morning"
KNH = "Kenyatta National Hospital"
TO_CONFIRM: list[Row] = [
    (DIAL, MAIN, False),
    ("1", ["Choose city.", "For London, press 1.", "For Nairobi, press 2.", "star"], False),
    ("2", ["Choose hospital.", f"For {KNH}, press 1."], False),
    ("1", ["Choose department.", "For Cardiology, press 1.", "For Dermatology, press 2."], False),
    ("1", ["Choose day.", f"For {MONDAY}, press 1.", "Press 9 for more."], False),
    ("1", [f"Times on {MONDAY}.", f"For {EIGHT}, 2 free, press 1."], False),
    (
        "1",
        [
            "Cardiology.",
            f"{KNH}.",
            f"{MONDAY} at {EIGHT}. We are holding this place for you for a few minutes.",
            "To confirm this appointment, press 1.",
        ],
        False,
    ),
]
BOOKED = [
    "Booked!",
    "Cardiology.",
    f"{MONDAY} at {EIGHT}.",
    "Your T-code is ",
    "Press 1 to hear it again.",
]
FULL_BOOKING: list[Row] = [
    *TO_CONFIRM,
    ("1", BOOKED, False),
    ("1", BOOKED, False),  # heard again
    ("2", ["Thank you for calling. Goodbye."], True),
]
NO_INPUT = "Sorry, we did not hear a key."
INVALID = "Sorry, that key is not on this menu."
GAVE_UP = ["We did not get an answer", "SMS", "Goodbye."]
SILENT_CALL: list[Row] = [
    (DIAL, MAIN, False),
    (SILENCE, [NO_INPUT, *MAIN], False),
    (SILENCE, [NO_INPUT, *MAIN], False),
    (SILENCE, GAVE_UP, True),
]
INVALID_KEYS: list[Row] = [
    (DIAL, MAIN, False),
    ("7", [INVALID, *MAIN], False),  # no option 7 here
    ("9", [INVALID, *MAIN], False),  # no next page
    ("1", ["Choose city."], False),  # a good key forgives the misses
    ("*", MAIN, False),  # back
    ("x", [INVALID, *MAIN], False),
    ("55", [INVALID, *MAIN], False),
    (SILENCE, GAVE_UP, True),  # three in a row, silence and keys alike
]
