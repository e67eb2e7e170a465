"""A voice call from the terminal that posts exactly what Africa's Talking or Twilio posts.

Each provider's answer is read the way the provider runs it: what is said while it listens
for keys, where the keys go, and what happens when the caller presses nothing (AT speaks the
fallback and follows the Redirect; Twilio's Gather posts an empty `Digits`). URLs in the
answers name the public address; the phone posts them to the host it was pointed at.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree as ET

import click
import requests
from twilio.request_validator import RequestValidator

from gateway.settings import Settings

Post = Callable[[str, dict[str, str], dict[str, str]], str]


@dataclass
class Step:
    """One answer of the hook, as the caller lives it."""

    said: list[str] = field(default_factory=list)  # while listening (or before hanging up)
    fallback: list[str] = field(default_factory=list)  # said when nothing is pressed
    listens: bool = False
    keys_to: str | None = None  # where pressed keys are posted
    silence_to: str | None = None  # where the provider goes after silence (None: hangs up)


def post_form(url: str, form: dict[str, str], headers: dict[str, str]) -> str:
    """POST a provider's form; return the body, or stop with one clear line."""
    try:
        response = requests.post(url, data=form, headers=headers, timeout=15)
    except requests.RequestException as exc:
        raise click.ClickException(
            f"cannot reach {url.split('?')[0]}: {type(exc).__name__}"
        ) from None
    if response.status_code == 403:
        raise click.ClickException(
            "the gateway answered HTTP 403: check ORS_AT_WEBHOOK_TOKEN or ORS_TWILIO_AUTH_TOKEN "
            "and app.public_base_url (Twilio signatures cover the public URL)"
        )
    if response.status_code != 200:
        raise click.ClickException(f"the gateway answered HTTP {response.status_code}")
    return response.text


def parse(body: str) -> ET.Element:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise click.ClickException(f"the hook's answer is not XML ({exc}): {body[:60]!r}") from None
    if root.tag != "Response":
        raise click.ClickException(f"the hook's answer has no <Response> root: {body[:60]!r}")
    return root


def _spoken(el: ET.Element) -> str:
    if el.tag == "Play":
        return f"[recording] {el.get('url') or el.text or ''}"
    return el.text or ""


def rebase(url: str, origin: str) -> str:
    """Send a public URL to the host the phone was pointed at (same path and query)."""
    target, base = urlsplit(url), urlsplit(origin)
    return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))


class AtVoiceCall:
    """An inbound call as Africa's Talking Voice makes it."""

    def __init__(self, url: str, phone: str, settings: Settings, post: Post = post_form):
        self.url, self.post = url, post
        self.form = {
            "isActive": "1",
            "sessionId": f"ATVId_{secrets.token_hex(16)}",
            "callerNumber": phone,
            "destinationNumber": settings.ivr_number,
            "direction": "Inbound",
        }
        self.step = Step()

    def start(self) -> Step:
        return self._send(self.url, self.form)

    def press(self, keys: str) -> Step:
        assert self.step.keys_to, "nothing is listening"
        return self._send(rebase(self.step.keys_to, self.url), {**self.form, "dtmfDigits": keys})

    def silence(self) -> Step | None:
        """AT says the fallback itself, then follows the Redirect (None: it hangs up)."""
        if not self.step.silence_to:
            return None
        return self._send(rebase(self.step.silence_to, self.url), self.form)

    def hang_up(self) -> None:
        final = {
            **self.form,
            "isActive": "0",
            "callSessionState": "Completed",
            "durationInSeconds": "60",
            "currencyCode": "KES",
            "amount": "0",
            "hangupCause": "NORMAL_CLEARING",
        }
        self.post(self.url, final, {})

    def _send(self, url: str, form: dict[str, str]) -> Step:
        root = parse(self.post(url, form, {}))
        step = Step()
        for el in root:
            if el.tag == "GetDigits":
                step.listens, step.keys_to = True, el.get("callbackUrl") or self.url
                step.said += step.fallback + [_spoken(child) for child in el]
                step.fallback = []
            elif el.tag in ("Say", "Play"):
                (step.fallback if step.listens else step.said).append(_spoken(el))
            elif el.tag == "Redirect":
                step.silence_to = el.text or self.url
        self.step = step
        return step


class TwilioVoiceCall:
    """An inbound call as Twilio Voice makes it, every request signed like Twilio signs it."""

    def __init__(self, url: str, phone: str, settings: Settings, post: Post = post_form):
        token = settings.secrets.twilio_auth_token
        if not token:
            raise click.ClickException(
                "ORS_TWILIO_AUTH_TOKEN is not set: the Twilio hooks refuse unsigned requests"
            )
        self.url, self.post = url, post
        self.public = settings.public_base_url
        self.validator = RequestValidator(token)
        self.params = {
            "CallSid": "CA" + secrets.token_hex(16),
            "AccountSid": settings.secrets.twilio_account_sid or "AC" + "0" * 32,
            "From": phone,
            "To": settings.ivr_number,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        self.step = Step()

    def start(self) -> Step:
        return self._send(self._public(self.url), self.params)

    def press(self, keys: str) -> Step:
        assert self.step.keys_to, "nothing is listening"
        return self._gather(keys)

    def silence(self) -> Step | None:
        """Gather posts an empty `Digits` to its action (actionOnEmptyResult)."""
        return self._gather("") if self.step.keys_to else None

    def hang_up(self) -> None:
        status = self._public(self.url).split("?")[0].rstrip("/") + "/status"
        params = {**self.params, "CallStatus": "completed", "CallDuration": "60"}
        self.post(rebase(status, self.url), params, self._signature(status, params))

    def _gather(self, digits: str) -> Step:
        assert self.step.keys_to
        params = {**self.params, "CallStatus": "in-progress", "Digits": digits}
        return self._send(self.step.keys_to, {**params, "FinishedOnKey": ""})

    def _public(self, url: str) -> str:
        # Twilio calls (and signs) the public address; the hook checks against it.
        return rebase(url, self.public)

    def _signature(self, public_url: str, params: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": self.validator.compute_signature(public_url, params)}

    def _send(self, public_url: str, params: dict[str, str]) -> Step:
        body = self.post(rebase(public_url, self.url), params, self._signature(public_url, params))
        step = Step()
        for el in parse(body):
            if el.tag == "Gather":
                step.listens, step.keys_to = True, el.get("action") or public_url
                step.silence_to = step.keys_to
                step.said += [_spoken(child) for child in el]
            elif el.tag in ("Say", "Play"):
                (step.fallback if step.listens else step.said).append(_spoken(el))
        self.step = step
        return step
