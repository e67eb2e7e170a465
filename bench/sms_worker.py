"""`ors worker` for scenario (d), its Africa's Talking SDK pointed at bench/fake_at.py.

The gateway has no setting for Africa's Talking's API host (only the provider's `base_url`
argument, which the tests use), so this does exactly what `ors worker` does — settings from
the environment, the runtime, `router.check()`, `run_worker` (RQ SimpleWorker + sweeps) — with
one override: `sms_providers={"africastalking": <the real SDK provider, base_url=fake>}`.

Usage: python -m bench.sms_worker --base-url http://127.0.0.1:P [--sweep-seconds S]
"""

from __future__ import annotations

import argparse

from gateway.messaging.policy import SendingPolicy
from gateway.messaging.providers.africastalking import AfricasTalkingProvider
from gateway.messaging.worker import DEFAULT_QUEUES, run_worker
from gateway.runtime import build_runtime
from gateway.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--sweep-seconds", type=float, default=2.0)
    args = parser.parse_args()
    settings = load_settings()
    policy = SendingPolicy()
    provider = AfricasTalkingProvider(
        settings.at_username,
        settings.secrets.at_api_key,
        sender_id=settings.at_sender_id,
        base_url=args.base_url,
        timeout=(3.05, policy.provider_timeout),
    )
    runtime = build_runtime(
        settings, sms_providers={"africastalking": provider}, messaging_policy=policy
    )
    runtime.messaging.router.check()
    run_worker(runtime, DEFAULT_QUEUES, args.sweep_seconds)


if __name__ == "__main__":
    main()
