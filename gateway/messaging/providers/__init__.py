"""SMS providers behind one protocol, and the typed errors that drive retries (courier style).

A provider's `send` returns the provider's message id, or raises `Retryable` (try again later:
network trouble, throttling, the provider's own trouble) or `Permanent` (this message can never
go: invalid number, blacklisted, unsubscribed). Nothing else decides whether to retry.

Each provider's client lives in its own folder beside its webhooks
(`gateway/channels/<provider>/sms_client.py`); the composition root hands the clients to
messaging, which never imports a channel.
"""

from __future__ import annotations

from typing import Protocol

from gateway.settings import ConfigError


class SendError(Exception):
    """Why a send did not happen: a short stable `reason` and the provider's `detail`."""

    def __init__(self, reason: str, detail: str = "", opt_out: bool = False):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail, self.opt_out = reason, detail, opt_out


class Retryable(SendError):
    """The message may go later: retry with backoff, up to the attempt limit."""


class Permanent(SendError):
    """The message can never go; `opt_out` means the recipient refuses our messages."""


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, body: str) -> str:
        """Hand one SMS to the provider and return its message id, or raise a SendError."""
        ...


def required(value: str, name: str) -> str:
    """Return a provider's setting, or raise ConfigError naming it when it is empty."""
    if not value:
        raise ConfigError(f"{name}: required by the configured SMS provider")
    return value
