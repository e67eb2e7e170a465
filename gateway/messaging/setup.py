"""Build this process's messaging: providers, the job queue, texts and the sending policy.

Called by build_runtime (the one composition root), which also hands in the providers' SMS
clients (messaging imports no channel); tests pass fakes or local providers through its
overrides: `sms_providers={name: provider}`, `messaging_policy`, `jobs`, `rng`, `inbound_gate`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis import Redis

from gateway.messaging import models  # noqa: F401  (puts its tables on the shared metadata)
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.inbound import InboundGate, build_gate
from gateway.messaging.policy import SendingPolicy
from gateway.messaging.providers import SmsProvider
from gateway.messaging.providers.console import ConsoleProvider
from gateway.messaging.providers.router import ProviderRouter
from gateway.messaging.queues import JobQueue, RQQueue
from gateway.messaging.texts import Texts, load_texts
from gateway.settings import Settings

# Builds one provider's SMS client from the settings and the provider timeout (seconds), or
# raises ConfigError naming a missing setting.
SmsClient = Callable[[Settings, float], SmsProvider]


@dataclass
class Messaging:
    router: ProviderRouter
    jobs: JobQueue
    texts: dict[str, Texts]
    policy: SendingPolicy
    rng: random.Random
    inbound: InboundGate  # rate limit and duplicate check of inbound SMS


def build_messaging(
    settings: Settings,
    redis: Redis | None,
    overrides: dict[str, Any],
    clients: Mapping[str, SmsClient],
) -> Messaging:
    """Pop the messaging overrides from `overrides` and build the rest from settings."""
    policy = overrides.pop("messaging_policy", None) or sending_policy(settings)
    factories = provider_factories(settings, policy, clients)
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
    settings: Settings, policy: SendingPolicy, clients: Mapping[str, SmsClient]
) -> dict[str, Callable[[], SmsProvider]]:
    """The console provider and each client bound to its settings, none of them built yet."""
    factories: dict[str, Callable[[], SmsProvider]] = {"console": ConsoleProvider}
    for name, client in clients.items():
        factories[name] = partial(client, settings, policy.provider_timeout)
    return factories


def _given(provider: SmsProvider) -> Callable[[], SmsProvider]:
    return lambda: provider
