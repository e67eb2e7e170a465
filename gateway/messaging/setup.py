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
    policy = overrides.pop("messaging_policy", None) or SendingPolicy()
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
            timeout=(3.05, policy.provider_timeout),
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
