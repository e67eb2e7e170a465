"""Build this process's messaging: providers, the job queue, texts and the sending policy.

Called by build_runtime (the one composition root); tests pass fakes or local providers
through its overrides: `sms_providers={name: provider}`, `messaging_policy`, `jobs`, `rng`,
`inbound_gate`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.messaging import models  # noqa: F401  (puts its tables on the shared metadata)
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.inbound import InboundGate, build_gate
from gateway.messaging.policy import SendingPolicy
from gateway.messaging.providers import SmsProvider
from gateway.messaging.providers.router import ProviderRouter
from gateway.messaging.queues import JobQueue, RQQueue
from gateway.messaging.texts import Texts, load_texts
from gateway.settings import ConfigError, Settings

STATUS_CALLBACK_PATH = "/hooks/twilio/status"
CONNECT_TIMEOUT = 3.05  # seconds; a little over a multiple of 3, TCP's SYN retransmit interval


@dataclass
class Messaging:
    router: ProviderRouter
    jobs: JobQueue
    texts: dict[str, Texts]
    policy: SendingPolicy
    rng: random.Random
    inbound: InboundGate  # rate limit and duplicate check of inbound SMS


def build_messaging(
    settings: Settings, redis: Redis | None, overrides: dict[str, Any]
) -> Messaging:
    """Pop the messaging overrides from `overrides` and build the rest from settings."""
    policy = overrides.pop("messaging_policy", None) or sending_policy(settings)
    factories = provider_factories(settings, policy)
    for name, provider in (overrides.pop("sms_providers", None) or {}).items():
        factories[name] = _given(provider)
    jobs = overrides.pop("jobs", None)
    if jobs is None:
        jobs = RQQueue(redis, policy) if redis is not None else ThreadDispatcher()
    return Messaging(
        router=ProviderRouter(settings.sms_provider, settings.providers_by_prefix, factories),
        jobs=jobs,
        texts=load_texts(),
        policy=policy,
        rng=overrides.pop("rng", None) or random.Random(),
        inbound=overrides.pop("inbound_gate", None) or build_gate(redis),
    )


def sending_policy(settings: Settings) -> SendingPolicy:
    """The default policy with the configured provider timeout (`timeouts.provider_http`).

    The lease must outlast a send started at the end of the send window (lease − 2 × timeout):
    a long configured timeout lengthens the lease, so the window never shrinks below half of it.
    """
    timeout = settings.timeouts.provider_http
    lease = max(SendingPolicy.lease_seconds, 4 * timeout)
    return SendingPolicy(provider_timeout=timeout, lease_seconds=lease)


def provider_factories(
    settings: Settings, policy: SendingPolicy
) -> dict[str, Callable[[], SmsProvider]]:
    def console() -> SmsProvider:
        from gateway.messaging.providers.console import ConsoleProvider

        return ConsoleProvider()

    def africastalking() -> SmsProvider:
        from gateway.messaging.providers.africastalking import AfricasTalkingProvider

        _require(settings.at_username, "ORS_AT_USERNAME")
        _require(settings.secrets.at_api_key, "ORS_AT_API_KEY")
        return AfricasTalkingProvider(
            settings.at_username,
            settings.secrets.at_api_key,
            sender_id=settings.at_sender_id,
            base_url=settings.at_base_url or None,
            # (connect, read): together at most 2 × provider_timeout, what the lease allows for.
            timeout=(min(CONNECT_TIMEOUT, policy.provider_timeout), policy.provider_timeout),
        )

    def twilio() -> SmsProvider:
        from gateway.messaging.providers.twilio import TwilioProvider

        s = settings.secrets
        _require(s.twilio_account_sid, "ORS_TWILIO_ACCOUNT_SID")
        _require(s.twilio_auth_token, "ORS_TWILIO_AUTH_TOKEN")
        _require(s.twilio_from, "ORS_TWILIO_FROM")
        return TwilioProvider(
            s.twilio_account_sid,
            s.twilio_auth_token,
            s.twilio_from,
            status_callback=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
            timeout=policy.provider_timeout,
        )

    return {"console": console, "africastalking": africastalking, "twilio": twilio}


def _given(provider: SmsProvider) -> Callable[[], SmsProvider]:
    return lambda: provider


def _require(value: str, name: str) -> None:
    if not value:
        raise ConfigError(f"{name}: required by the configured SMS provider")
