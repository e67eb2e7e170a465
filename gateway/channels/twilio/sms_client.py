"""Twilio SMS through the official SDK (twilio 9.x).

The client gets `environment={"_": …}` so TWILIO_REGION / TWILIO_EDGE in the process
environment can never rewrite its host (an empty dict would fall back to os.environ), and an
optional `base_url` replaces the API host for tests (`client.api.base_url`). Its
TwilioHttpClient keeps
one `requests.Session` (`pool_connections=True`, the default), so sends reuse connections.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from gateway.messaging.providers import Permanent, Retryable, SendError, required
from gateway.settings import Settings

# Twilio error codes (Twilio's Error and Warning Dictionary) that mean "later", whatever the
# HTTP status says.
RETRYABLE_CODES = frozenset({20429, 30001, 63018})
OPT_OUT_CODES = frozenset({21610})  # the recipient replied STOP
DEFAULT_TIMEOUT = 10.0  # seconds; TwilioHttpClient has none by default
STATUS_CALLBACK_PATH = "/hooks/twilio/status"  # where status.py takes the delivery reports


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout),
            environment={"_": "no region or edge from the environment"},
        )
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number = from_number
        self.status_callback = status_callback

    def send(self, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=self.status_callback
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(exc.status, exc.code, _detail(exc)) from None
        except requests.RequestException as exc:
            raise Retryable("network", type(exc).__name__) from None
        except (TwilioException, ValueError) as exc:  # a 2xx body that is not JSON, …
            raise Retryable("unreadable_reply", str(exc)[:120]) from None
        if not message.sid:
            raise Retryable("unreadable_reply", "no sid in the reply")
        return message.sid


def from_settings(settings: Settings, timeout: float) -> TwilioProvider:
    """Build the client `ors` sends through, or raise ConfigError naming a missing setting."""
    s = settings.secrets
    return TwilioProvider(
        required(s.twilio_account_sid, "ORS_TWILIO_ACCOUNT_SID"),
        required(s.twilio_auth_token, "ORS_TWILIO_AUTH_TOKEN"),
        required(s.twilio_from, "ORS_TWILIO_FROM"),
        status_callback=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
        timeout=timeout,
    )


def classify(status: int, code: int | None, detail: str) -> SendError:
    """Turn Twilio's HTTP status and error code into Retryable or Permanent."""
    if code in OPT_OUT_CODES:
        return Permanent("opted_out", detail, opt_out=True)
    if code in RETRYABLE_CODES or status == 429 or status >= 500:
        return Retryable("provider_error", detail)
    if status == 401:  # wrong credentials: an operator fixes them, then the message can go
        return Retryable("unauthorized", detail)
    return Permanent("refused", detail)


def _detail(exc: TwilioRestException | TwilioServiceException) -> str:
    text = exc.msg if isinstance(exc, TwilioRestException) else (exc.detail or exc.title)
    return f"{exc.code} {text}".strip()[:200] if exc.code else str(text)[:200]
