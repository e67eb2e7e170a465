"""Africa's Talking SMS through the official SDK (africastalking 2.x).

Each provider instance makes its own `SMSService` instead of using the SDK's module global, so
two configurations (or a test's local server) never overwrite each other. SDK quirks handled
here (africastalking's
SMSService): a non-2xx reply raises `AfricasTalkingException` carrying only the
body text, and a 2xx reply whose content type is not exactly `application/json` comes back as
a str, which we parse as JSON when we can.

Connections are not reused: the SDK posts through the module-level `requests.post`, which
opens a new connection for every SMS, and it takes no `requests.Session` (only replacing its
private request method or patching its module's `requests` global would give it one).
"""

from __future__ import annotations

import json
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from gateway.messaging.providers import Permanent, Retryable, SendError, required
from gateway.settings import Settings

ACCEPTED, RETRY, REFUSED, OPTED_OUT = "accepted", "retry", "refused", "opted_out"

# Per-recipient statusCode of the send reply (Africa's Talking's SMS API) -> what it means for us.
RECIPIENT_STATUS: dict[int, str] = {
    100: ACCEPTED,  # Processed
    101: ACCEPTED,  # Success
    102: ACCEPTED,  # Queued
    401: REFUSED,  # RiskHold
    402: REFUSED,  # InvalidSenderId
    403: REFUSED,  # InvalidPhoneNumber
    404: REFUSED,  # UnsupportedNumberType
    405: RETRY,  # InsufficientBalance: an operator tops up, then it can go
    406: OPTED_OUT,  # UserInBlacklist: the recipient blocked our sender
    407: REFUSED,  # CouldNotRoute
    409: REFUSED,  # DoNotDisturbRejection
    500: RETRY,  # InternalServerError
    501: RETRY,  # GatewayError
    502: REFUSED,  # RejectedByGateway
}
CONNECT_TIMEOUT = 3.05  # seconds; a little over a multiple of 3, TCP's SYN retransmit interval
DEFAULT_TIMEOUT = (CONNECT_TIMEOUT, 10.0)  # (connect, read) seconds


class AfricasTalkingProvider:
    name = "africastalking"

    def __init__(
        self,
        username: str,
        api_key: str,
        sender_id: str = "",
        base_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ):
        self.sms = SMSService(username, api_key)
        if base_url:  # tests and proxies: the SDK has no setting for its host, only these
            self.sms._baseUrl = self.sms._contentUrl = base_url.rstrip("/") + "/version1"
        self.sender_id = sender_id or None
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        try:
            reply = self.sms.send(body, [to], sender_id=self.sender_id, timeout=self.timeout)
        except ValueError as exc:  # the SDK's own phone check: `Invalid phone number: …`
            raise Permanent("invalid_number", str(exc)) from None
        except AfricasTalkingException as exc:
            raise _refusal(str(exc)) from None
        except requests.RequestException as exc:
            raise Retryable("network", type(exc).__name__) from None
        return _message_id(_as_json(reply))


def from_settings(settings: Settings, timeout: float) -> AfricasTalkingProvider:
    """Build the client `ors` sends through, or raise ConfigError naming a missing setting."""
    return AfricasTalkingProvider(
        required(settings.at_username, "ORS_AT_USERNAME"),
        required(settings.secrets.at_api_key, "ORS_AT_API_KEY"),
        sender_id=settings.at_sender_id,
        base_url=settings.at_base_url or None,
        # (connect, read): together at most 2 × timeout, what the sending lease allows for.
        timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
    )


def _as_json(reply: Any) -> dict[str, Any]:
    if isinstance(reply, str):
        try:
            reply = json.loads(reply)
        except ValueError:
            raise Retryable("unreadable_reply", reply[:120]) from None
    if not isinstance(reply, dict):
        raise Retryable("unreadable_reply", repr(reply)[:120])
    return reply


def _message_id(reply: dict[str, Any]) -> str:
    data = reply.get("SMSMessageData")
    if not isinstance(data, dict):
        raise Retryable("unreadable_reply", json.dumps(reply)[:120])
    recipients = data.get("Recipients") or []
    if not recipients or not isinstance(recipients[0], dict):
        # "Sent to 0/1": refused as a whole (bad sender id, no route…); the text says why.
        raise Permanent("rejected", str(data.get("Message", ""))[:200])
    recipient = recipients[0]
    meaning, detail = _meaning(recipient), str(recipient.get("status", ""))
    message_id = str(recipient.get("messageId") or "")
    if meaning == ACCEPTED and message_id and message_id != "None":
        return message_id
    raise _error(meaning if meaning != ACCEPTED else RETRY, detail or "no messageId")


def _meaning(recipient: dict[str, Any]) -> str:
    try:
        code = int(recipient.get("statusCode", 0))
    except (TypeError, ValueError):
        code = 0
    return RECIPIENT_STATUS.get(code, RETRY)


def _refusal(body: str) -> SendError:
    """Classify a non-2xx reply, of which the SDK keeps only the body text."""
    try:
        reply = json.loads(body)
    except ValueError:
        # Plain text ("The supplied authentication is invalid", "Too many requests", a proxy's
        # HTML page): nothing says the message can never go, so it is retried a bounded
        # number of times — long enough for an operator to fix a key or a rate limit to pass.
        return Retryable("http_error", body[:200])
    try:
        _message_id(_as_json(reply))  # e.g. the 409 DND reply names the recipient's status
    except SendError as exc:
        return exc
    return Retryable("http_error", "error status with an accepted recipient")


def _error(meaning: str, detail: str) -> SendError:
    if meaning == OPTED_OUT:
        return Permanent("opted_out", detail, opt_out=True)
    if meaning == REFUSED:
        return Permanent("refused", detail)
    return Retryable("provider_error", detail)
