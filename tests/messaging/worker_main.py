"""`ors worker` for the process-kill test: the same run_worker, on the test's PostgreSQL and
Redis, sending through the real Africa's Talking SDK to the test's fake provider.

Usage: python worker_main.py '<json config>' (database_url, redis_url, base_url, data_dir,
lease_seconds, provider_timeout, and optionally record_every).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gateway.channels.africastalking.sms_client import AfricasTalkingProvider
from gateway.messaging.policy import SendingPolicy
from gateway.messaging.worker import run_worker
from gateway.runtime import build_runtime
from gateway.settings import load_settings
from gateway.voucher_keys import VoucherKeys
from tcode.keys import Keyring, SigningKey

AT_KEY = "at-test-key"


def main(raw: str) -> None:
    config = json.loads(raw)
    settings = load_settings(env={}).with_overrides(
        database_url=config["database_url"],
        redis_url=config["redis_url"],
        sms_provider="africastalking",
        data_dir=Path(config["data_dir"]),
    )
    policy = SendingPolicy(
        lease_seconds=config["lease_seconds"],
        provider_timeout=config["provider_timeout"],
        base_delay=1,
        requeue_grace=1,
        record_every=config.get("record_every", SendingPolicy.record_every),
    )
    signing = SigningKey.generate()  # the worker signs nothing; booking needs a key to exist
    provider = AfricasTalkingProvider(
        "sandbox", AT_KEY, base_url=config["base_url"], timeout=(1.0, policy.provider_timeout)
    )
    runtime = build_runtime(
        settings,
        keys=VoucherKeys(signing=signing, keyring=Keyring([signing.public_key])),
        sms_providers={"africastalking": provider},
        messaging_policy=policy,
    )
    run_worker(runtime, ["messages"], sweep_seconds=0.2)


if __name__ == "__main__":
    main(sys.argv[1])
