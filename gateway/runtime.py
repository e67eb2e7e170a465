"""The composition root: one Runtime holding every connection and service, built per process.

Flask (create_app), the CLI and the jobs all build it with build_runtime(), so a job needs no
web app and a test passes fakes through `overrides`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.booking.operations.challenges import challenge_key
from gateway.booking.service import BookingService
from gateway.clock import Clock, SystemClock
from gateway.conversations import IvrStack, UssdStack, build_ivr, build_ussd
from gateway.db import make_engine, make_read_engine, read_only
from gateway.messaging.providers import SmsProvider
from gateway.messaging.setup import Messaging, SmsClient, build_messaging
from gateway.settings import Settings
from gateway.staff.accounts import StaffAccounts
from gateway.staff.secrets import Sealer
from gateway.voucher_keys import VoucherKeys, load_voucher_keys


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    clock: Clock
    redis: Redis | None
    keys: VoucherKeys
    booking: BookingService
    ussd: UssdStack
    ivr: IvrStack
    messaging: Messaging
    staff: StaffAccounts
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.engine.dispose()
        self.booking.read_engine.dispose()  # the same pool as `engine`'s on SQLite: harmless
        if self.redis is not None:
            self.redis.close()


def build_runtime(settings: Settings, **overrides: Any) -> Runtime:
    """Create engines, clients and services for this process (call it after any fork)."""
    timeouts = settings.timeouts
    engine = overrides.pop("engine", None)
    if engine is None:
        engine = make_engine(settings.effective_database_url, timeouts, settings.database_driver)
        read_engine = make_read_engine(engine, timeouts)
    else:  # a test's engine: reads on it too (unless given), so no second pool outlives it
        read_engine = overrides.pop("read_engine", None) or read_only(engine)
    clock = overrides.pop("clock", None) or SystemClock()
    redis = overrides.pop("redis", None)
    if redis is None and settings.redis_url:
        # Sessions, queues and the SMS gate share this client: no hop waits longer on Redis.
        redis = Redis.from_url(
            settings.redis_url,
            socket_timeout=timeouts.redis,
            socket_connect_timeout=timeouts.redis,
        )
    keys = overrides.pop("keys", None) or load_voucher_keys(settings)
    booking = BookingService(engine, settings, clock, keys.signing, read_engine)
    writer, reader = booking.writer, booking.reader
    ussd = overrides.pop("ussd", None) or build_ussd(settings, booking, redis)
    ivr = overrides.pop("ivr", None) or build_ivr(settings, booking, redis)
    messaging = build_messaging(settings, redis, overrides, SMS_CLIENTS)
    # Staff second factors are sealed with the key every process derives alike (as SMS codes').
    sealer = Sealer(challenge_key(settings.secrets.secret_key, keys.signing))
    staff = StaffAccounts(engine, clock, sealer)
    return Runtime(
        settings=settings,
        engine=engine,
        writer=writer,
        reader=reader,
        clock=clock,
        redis=redis,
        keys=keys,
        booking=booking,
        ussd=ussd,
        ivr=ivr,
        messaging=messaging,
        staff=staff,
        extras=overrides,
    )


# Each provider folder's SMS client, imported on first use: `import gateway.runtime` pulls in
# neither the provider SDKs nor the folders' Flask blueprints.
def _africastalking_sms(settings: Settings, timeout: float) -> SmsProvider:
    from gateway.channels.africastalking import sms_client

    return sms_client.from_settings(settings, timeout)


def _twilio_sms(settings: Settings, timeout: float) -> SmsProvider:
    from gateway.channels.twilio import sms_client

    return sms_client.from_settings(settings, timeout)


SMS_CLIENTS: dict[str, SmsClient] = {"africastalking": _africastalking_sms, "twilio": _twilio_sms}
