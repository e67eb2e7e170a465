"""Typed, frozen settings: config.yaml defaults, then ORS_* environment overrides.

Every value is checked once, here; a bad one raises ConfigError whose message names the
setting, so start-up can stop with one clear line.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any

import yaml

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
HOSPITAL_CODE = re.compile(r"^[A-Z0-9]+$")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class BlockPolicy:
    enabled: bool = True
    count: int = 3
    window_days: int = 90
    block_days: int = 30


@dataclass(frozen=True)
class BookingRules:
    """The rules of one hospital (global defaults with its overrides applied)."""

    horizon_days: int = 14
    release_time: time = time(0, 0)
    min_lead_minutes: int = 0
    max_per_day: int = 2
    max_per_department_day: int = 1
    hold_minutes: int = 5
    cancel_deadline_hours: float = 2
    walkin_return_minutes: int = 60
    remote_share: float = 0.5
    checkin_before_minutes: int = 120
    checkin_after_minutes: int = 30
    real_name: bool = False
    no_show_block: BlockPolicy = BlockPolicy()
    cancel_block: BlockPolicy = BlockPolicy(count=5, window_days=30, block_days=7)
    # Voice bookings are unconfirmed claims (a caller id can be forged; README, Security): at most
    # this many per hospital and day at once, each released unless the phone's owner confirms.
    unconfirmed_voice_per_day: int = 20
    unconfirmed_release_hours: float = 24  # released this long before the slot …
    unconfirmed_late_release_hours: float = 2  # … or this long, for a booking made later


@dataclass(frozen=True)
class PersonRules:
    """The rules of a phone's persons ("Me" and dependants), across every hospital."""

    max_dependants: int = 5  # shown at once besides "Me"
    lifetime_per_phone: int = 8  # persons ever, "Me" and hidden ones included
    live_bookings_per_phone: int = 6  # across the persons of a phone that has dependants
    blocked_persons_block_phone: int = 2  # this many blocked persons block the whole phone
    name_max_length: int = 20  # a first name, so the voucher SMS stays one segment


@dataclass(frozen=True)
class BookingSettings:
    defaults: BookingRules = BookingRules()
    hospitals: Mapping[str, BookingRules] = field(default_factory=dict)
    persons: PersonRules = PersonRules()

    def rules_for(self, hospital_code: str) -> BookingRules:
        """Return the rules of one hospital: its overrides, else the defaults."""
        return self.hospitals.get(hospital_code, self.defaults)


@dataclass(frozen=True)
class Secrets:
    secret_key: str = ""
    at_api_key: str = ""
    at_webhook_token: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    voucher_key: str = ""
    id_hash_key: str = ""

    metrics_token: str = ""
    # Earlier national-ID hash keys, comma-separated: hashes made with them still match.
    id_hash_old_keys: str = ""

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return "Secrets(<hidden>)"

    @property
    def at_webhook_tokens(self) -> tuple[str, ...]:
        """Every accepted AT token (comma-separated, so old and new overlap in a rotation);
        the first is the one we hand out in callback URLs."""
        return tuple(t.strip() for t in self.at_webhook_token.split(",") if t.strip())


@dataclass(frozen=True)
class BodyLimits:
    """Request body ceilings in bytes, per route family; checked before any parsing."""

    hooks: int = 64 * 1024
    kiosk: int = 1024
    default: int = 64 * 1024
    hook_form_fields: int = 200


@dataclass(frozen=True)
class VoiceProof:
    """The SMS one-time code a voice caller keys before hearing or changing a booking."""

    code_ttl_seconds: int = 300
    max_tries: int = 3
    per_hour: int = 3
    per_day: int = 6
    wait_seconds: int = 90  # how long the call waits for the SMS, re-prompting


@dataclass(frozen=True)
class Timeouts:
    """Bounds on every wait for a dependency, in seconds (sized for a USSD hop)."""

    database_connect: float = 2.0
    database_statement: float = 3.0  # PostgreSQL statement_timeout
    database_lock: float = 2.0  # PostgreSQL lock_timeout
    database_idle_in_transaction: float = 10.0  # idle_in_transaction_session_timeout
    database_pool: float = 2.0  # waiting for a free pooled connection
    redis: float = 1.0  # Redis socket and connect timeouts
    provider_http: float = 10.0  # one SMS provider HTTP call
    hop_deadline: float = 5.0  # a USSD/IVR hop answers (an apology at worst) within this


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept (days); the sweep enforces it."""

    message_bodies_days: int = 30  # SMS bodies redacted this long after creation
    inactive_days: int = 730  # citizens without activity this long are anonymised


@dataclass(frozen=True)
class Settings:
    public_base_url: str = "http://127.0.0.1:5000"
    default_region: str = "KE"
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "sw")
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    database_url: str = ""
    # How the hot statements run on PostgreSQL: "fast" (on the psycopg cursor) or "sqlalchemy".
    database_driver: str = "fast"
    redis_url: str = ""
    booking: BookingSettings = BookingSettings()
    ussd_service_code: str = "*384*123#"
    ussd_session_ttl: int = 300
    ivr_number: str = ""
    # Recorded pieces of speech, <folder>/<language>/ (`ors ivr prompts`); None: speech only.
    ivr_recordings: Path | None = None
    at_username: str = "sandbox"
    at_sender_id: str = ""
    at_base_url: str = ""  # the SMS API host; empty: the SDK's own (live or sandbox)
    sms_provider: str = "console"
    providers_by_prefix: Mapping[str, str] = field(default_factory=dict)
    reminders_hours: tuple[float, ...] = (24, 3)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    kiosk_failed_code_limit: str = "30 per minute"
    kiosk_identity_cache_seconds: int = 60
    kiosk_setup_pin: str = ""  # empty: "forget key" needs the current key itself
    voucher_verify_keys: tuple[str, ...] = ()
    # Reverse proxies (IPs or CIDR networks) whose X-Forwarded-* headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    body_limits: BodyLimits = BodyLimits()
    at_allowed_networks: tuple[str, ...] = ()  # empty: any source address
    console_allowed_networks: tuple[str, ...] = ()  # the staff console's; empty: any
    allow_console_in_production: bool = False
    # Calling regions (phonenumbers region codes) that may receive SMS; empty: default_region.
    sms_allowed_regions: tuple[str, ...] = ()
    daily_notice_limit: int = 10  # SMS per phone per day, vouchers and one-time codes apart
    voice_proof: VoiceProof = VoiceProof()
    timeouts: Timeouts = Timeouts()
    retention: Retention = Retention()
    # An event, message or inbound SMS that fails this often is parked as a dead letter.
    dead_letter_after: int = 5
    # Request threads of each web worker, set by `ors serve` (0: unknown, e.g. the demo server).
    web_threads: int = 0
    secrets: Secrets = Secrets()

    @property
    def embedded(self) -> bool:
        """True in the embedded demo mode: no database URL, so SQLite in data_dir."""
        return not self.database_url

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ors.sqlite3').resolve()}"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


ENV_SECRETS = {
    "ORS_SECRET_KEY": "secret_key",
    "ORS_AT_API_KEY": "at_api_key",
    "ORS_AT_WEBHOOK_TOKEN": "at_webhook_token",
    "ORS_TWILIO_ACCOUNT_SID": "twilio_account_sid",
    "ORS_TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "ORS_TWILIO_FROM": "twilio_from",
    "ORS_VOUCHER_KEY": "voucher_key",
    "ORS_ID_HASH_KEY": "id_hash_key",
    "ORS_ID_HASH_OLD_KEYS": "id_hash_old_keys",
    "ORS_METRICS_TOKEN": "metrics_token",
}
PROVIDERS = ("console", "africastalking", "twilio")


def load_settings(env: Mapping[str, str] | None = None, path: str | Path | None = None) -> Settings:
    """Read config.yaml (or ORS_CONFIG / path), apply ORS_* overrides, validate everything."""
    env = os.environ if env is None else env
    source = Path(path or env.get("ORS_CONFIG") or REPO_CONFIG)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"ORS_CONFIG: file not found: {source}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"ORS_CONFIG: {source} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"ORS_CONFIG: {source} must hold a mapping at the top level")
    return parse_settings(raw, env, base_dir=source.resolve().parent)


def parse_settings(raw: Mapping[str, Any], env: Mapping[str, str], base_dir: Path) -> Settings:
    r = _Reader(raw)
    data_dir = Path(r.text("app.data_dir", "var"))
    settings = Settings(
        public_base_url=_url("ORS_PUBLIC_BASE_URL", env["ORS_PUBLIC_BASE_URL"])
        if env.get("ORS_PUBLIC_BASE_URL")
        else r.url("app.public_base_url", "http://127.0.0.1:5000"),
        default_region=r.text("app.default_region", "KE").upper(),
        default_language=r.text("app.default_language", "en"),
        languages=tuple(r.items("app.languages", ["en", "sw"])),
        data_dir=data_dir if data_dir.is_absolute() else base_dir / data_dir,
        log_level=r.choice("app.log_level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        database_url=env.get("ORS_DATABASE_URL") or r.text("database.url", ""),
        database_driver=r.choice("database.driver", ("fast", "sqlalchemy"), "fast"),
        redis_url=env.get("ORS_REDIS_URL") or r.text("redis.url", ""),
        booking=_booking(r),
        ussd_service_code=r.text("channels.ussd.service_code", "*384*123#"),
        ussd_session_ttl=r.whole("channels.ussd.session_ttl_seconds", 300, minimum=30),
        ivr_number=r.text("channels.ivr.number", ""),
        ivr_recordings=_ivr_recordings(r, base_dir),
        at_username=env.get("ORS_AT_USERNAME") or r.text("channels.africastalking.username", ""),
        at_sender_id=r.text("channels.africastalking.sender_id", ""),
        at_base_url=_url("ORS_AT_BASE_URL", env["ORS_AT_BASE_URL"])
        if env.get("ORS_AT_BASE_URL")
        else _optional_url(r, "channels.africastalking.base_url"),
        sms_provider=r.choice("messaging.provider", PROVIDERS, "console"),
        providers_by_prefix=_prefix_providers(r),
        reminders_hours=tuple(
            r.number(f"messaging.reminders_hours[{i}]", 0, value=v)
            for i, v in enumerate(r.items("messaging.reminders_hours", [24, 3]))
        ),
        quiet_start=r.clock("messaging.quiet_hours.start", "21:00"),
        quiet_end=r.clock("messaging.quiet_hours.end", "07:00"),
        kiosk_failed_code_limit=r.text("kiosk.failed_code_limit", "30 per minute"),
        kiosk_identity_cache_seconds=r.whole("kiosk.identity_cache_seconds", 60, minimum=0),
        kiosk_setup_pin=_pin(r.text("kiosk.setup_pin", "")),
        voucher_verify_keys=tuple(str(k) for k in r.items("vouchers.verify_keys", [])),
        trusted_proxies=_networks(r, "app.trusted_proxies"),
        body_limits=_body_limits(r),
        at_allowed_networks=_networks(r, "channels.africastalking.allowed_networks"),
        console_allowed_networks=_networks(r, "console.allowed_networks"),
        allow_console_in_production=r.flag("messaging.allow_console_in_production", False),
        sms_allowed_regions=_regions(r, "messaging.allowed_regions"),
        daily_notice_limit=r.whole("messaging.daily_notice_limit", 10, minimum=0),
        voice_proof=_voice_proof(r),
        timeouts=_timeouts(r),
        retention=_retention(r),
        dead_letter_after=r.whole("messaging.dead_letter_after", 5, minimum=1),
        secrets=Secrets(**{attr: env.get(name, "") for name, attr in ENV_SECRETS.items()}),
    )
    _check_urls(settings, env)
    if settings.default_language not in settings.languages:
        raise ConfigError(
            f"app.default_language: {settings.default_language!r} is not in app.languages"
        )
    return settings


def _check_urls(settings: Settings, env: Mapping[str, str]) -> None:
    db_name = "ORS_DATABASE_URL" if env.get("ORS_DATABASE_URL") else "database.url"
    redis_name = "ORS_REDIS_URL" if env.get("ORS_REDIS_URL") else "redis.url"
    db = settings.database_url
    if db and not db.startswith(("postgresql", "sqlite")):
        raise ConfigError(
            f"{db_name}: expected postgresql+psycopg://… or sqlite://…, got {db.split(':')[0]}:…"
        )
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError(f"{redis_name}: expected redis://host:port/db")


def _url(name: str, value: str) -> str:
    """An http(s) base URL without a trailing slash (Twilio signs the exact URL it calls)."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _booking(r: _Reader) -> BookingSettings:
    defaults = _rules(r, "booking.defaults", BookingRules())
    hospitals: dict[str, BookingRules] = {}
    for code in r.mapping("booking.hospitals"):
        if not HOSPITAL_CODE.match(str(code)):
            raise ConfigError(
                f"booking.hospitals.{code}: hospital codes are upper-case letters and digits"
            )
        hospitals[str(code)] = _rules(r, f"booking.hospitals.{code}", defaults)
    return BookingSettings(defaults=defaults, hospitals=hospitals, persons=_persons(r))


def _persons(r: _Reader) -> PersonRules:
    p, base = "booking.persons", PersonRules()
    known = {f.name for f in fields(PersonRules)}
    for key in r.mapping(p):
        if key not in known:
            raise ConfigError(f"{p}.{key}: unknown rule (known: {', '.join(sorted(known))})")
    rules = PersonRules(
        max_dependants=r.whole(f"{p}.max_dependants", base.max_dependants, minimum=0),
        lifetime_per_phone=r.whole(f"{p}.lifetime_per_phone", base.lifetime_per_phone, minimum=1),
        live_bookings_per_phone=r.whole(
            f"{p}.live_bookings_per_phone", base.live_bookings_per_phone, minimum=1
        ),
        blocked_persons_block_phone=r.whole(
            f"{p}.blocked_persons_block_phone", base.blocked_persons_block_phone, minimum=1
        ),
        name_max_length=r.whole(f"{p}.name_max_length", base.name_max_length, minimum=2),
    )
    if rules.lifetime_per_phone < rules.max_dependants + 1:
        raise ConfigError(f"{p}.lifetime_per_phone: must be at least max_dependants + 1")
    return rules


def _rules(r: _Reader, prefix: str, base: BookingRules) -> BookingRules:
    known = {f.name for f in fields(BookingRules)}
    for key in r.mapping(prefix):
        if key not in known:
            raise ConfigError(f"{prefix}.{key}: unknown rule (known: {', '.join(sorted(known))})")
    p = prefix
    return BookingRules(
        horizon_days=r.whole(f"{p}.horizon_days", base.horizon_days, minimum=0),
        release_time=r.clock(f"{p}.release_time", base.release_time.strftime("%H:%M")),
        min_lead_minutes=r.whole(f"{p}.min_lead_minutes", base.min_lead_minutes, minimum=0),
        max_per_day=r.whole(f"{p}.max_per_day", base.max_per_day, minimum=1),
        max_per_department_day=r.whole(
            f"{p}.max_per_department_day", base.max_per_department_day, minimum=1
        ),
        hold_minutes=r.whole(f"{p}.hold_minutes", base.hold_minutes, minimum=1),
        cancel_deadline_hours=r.number(f"{p}.cancel_deadline_hours", base.cancel_deadline_hours),
        walkin_return_minutes=r.whole(
            f"{p}.walkin_return_minutes", base.walkin_return_minutes, minimum=0
        ),
        remote_share=r.share(f"{p}.remote_share", base.remote_share),
        checkin_before_minutes=r.whole(
            f"{p}.checkin_before_minutes", base.checkin_before_minutes, minimum=0
        ),
        checkin_after_minutes=r.whole(
            f"{p}.checkin_after_minutes", base.checkin_after_minutes, minimum=0
        ),
        real_name=r.flag(f"{p}.real_name", base.real_name),
        no_show_block=_block(r, f"{p}.no_show_block", base.no_show_block),
        cancel_block=_block(r, f"{p}.cancel_block", base.cancel_block),
        unconfirmed_voice_per_day=r.whole(
            f"{p}.unconfirmed_voice_per_day", base.unconfirmed_voice_per_day, minimum=0
        ),
        unconfirmed_release_hours=r.number(
            f"{p}.unconfirmed_release_hours", base.unconfirmed_release_hours
        ),
        unconfirmed_late_release_hours=r.number(
            f"{p}.unconfirmed_late_release_hours", base.unconfirmed_late_release_hours
        ),
    )


def _block(r: _Reader, p: str, base: BlockPolicy) -> BlockPolicy:
    known = {f.name for f in fields(BlockPolicy)}
    for key in r.mapping(p):
        if key not in known:
            raise ConfigError(f"{p}.{key}: unknown rule (known: {', '.join(sorted(known))})")
    return BlockPolicy(
        enabled=r.flag(f"{p}.enabled", base.enabled),
        count=r.whole(f"{p}.count", base.count, minimum=1),
        window_days=r.whole(f"{p}.window_days", base.window_days, minimum=1),
        block_days=r.whole(f"{p}.block_days", base.block_days, minimum=0),
    )


def _networks(r: _Reader, path: str) -> tuple[str, ...]:
    """IP addresses or CIDR networks, checked here and kept as their canonical text."""
    out = []
    for i, value in enumerate(r.items(path, [])):
        try:
            out.append(str(ipaddress.ip_network(str(value), strict=False)))
        except ValueError:
            raise ConfigError(
                f"{path}[{i}]: expected an IP address or network, got {value!r}"
            ) from None
    return tuple(out)


def _regions(r: _Reader, path: str) -> tuple[str, ...]:
    out = []
    for i, value in enumerate(r.items(path, [])):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ConfigError(f"{path}[{i}]: expected a two-letter region code, got {value!r}")
        out.append(value.upper())
    return tuple(out)


def _pin(value: str) -> str:
    if value and not re.fullmatch(r"\d{4,12}", value):
        raise ConfigError("kiosk.setup_pin: expected 4 to 12 digits")
    return value


def _body_limits(r: _Reader) -> BodyLimits:
    p = "app.body_limits"
    known = {f.name for f in fields(BodyLimits)}
    for key in r.mapping(p):
        if key not in known:
            raise ConfigError(f"{p}.{key}: unknown limit (known: {', '.join(sorted(known))})")
    d = BodyLimits()
    return BodyLimits(
        hooks=r.whole(f"{p}.hooks", d.hooks, minimum=1024),
        kiosk=r.whole(f"{p}.kiosk", d.kiosk, minimum=256),
        default=r.whole(f"{p}.default", d.default, minimum=1024),
        hook_form_fields=r.whole(f"{p}.hook_form_fields", d.hook_form_fields, minimum=10),
    )


def _voice_proof(r: _Reader) -> VoiceProof:
    p = "channels.ivr.proof"
    known = {f.name for f in fields(VoiceProof)}
    for key in r.mapping(p):
        if key not in known:
            raise ConfigError(f"{p}.{key}: unknown setting (known: {', '.join(sorted(known))})")
    d = VoiceProof()
    return VoiceProof(
        code_ttl_seconds=r.whole(f"{p}.code_ttl_seconds", d.code_ttl_seconds, minimum=30),
        max_tries=r.whole(f"{p}.max_tries", d.max_tries, minimum=1),
        per_hour=r.whole(f"{p}.per_hour", d.per_hour, minimum=1),
        per_day=r.whole(f"{p}.per_day", d.per_day, minimum=1),
        wait_seconds=r.whole(f"{p}.wait_seconds", d.wait_seconds, minimum=10),
    )


def _timeouts(r: _Reader) -> Timeouts:
    d = Timeouts()
    db, p = "database.timeouts", "channels.hop_deadline_seconds"
    _known(
        r,
        db,
        {
            "connect_seconds",
            "statement_seconds",
            "lock_seconds",
            "idle_in_transaction_seconds",
            "pool_seconds",
        },
    )
    return Timeouts(
        database_connect=r.positive(f"{db}.connect_seconds", d.database_connect),
        database_statement=r.positive(f"{db}.statement_seconds", d.database_statement),
        database_lock=r.positive(f"{db}.lock_seconds", d.database_lock),
        database_idle_in_transaction=r.positive(
            f"{db}.idle_in_transaction_seconds", d.database_idle_in_transaction
        ),
        database_pool=r.positive(f"{db}.pool_seconds", d.database_pool),
        redis=r.positive("redis.timeout_seconds", d.redis),
        provider_http=r.positive("messaging.provider_timeout_seconds", d.provider_http),
        hop_deadline=r.positive(p, d.hop_deadline),
    )


def _retention(r: _Reader) -> Retention:
    p = "retention"
    _known(r, p, {f.name for f in fields(Retention)})
    d = Retention()
    return Retention(
        message_bodies_days=r.whole(f"{p}.message_bodies_days", d.message_bodies_days, minimum=1),
        inactive_days=r.whole(f"{p}.inactive_days", d.inactive_days, minimum=30),
    )


def _known(r: _Reader, path: str, known: set[str]) -> None:
    for key in r.mapping(path):
        if key not in known:
            raise ConfigError(f"{path}.{key}: unknown setting (known: {', '.join(sorted(known))})")


def _optional_url(r: _Reader, path: str) -> str:
    return r.url(path, "") if r.text(path, "") else ""


def _ivr_recordings(r: _Reader, base_dir: Path) -> Path | None:
    # The settings of per-sentence recordings at an outside address, replaced in 0.9.
    replaced = [
        old
        for old in ("audio_base_url", "prompts")
        if r.get(f"channels.ivr.{old}") not in (_MISSING, None, "", {})
    ]
    if replaced:
        raise ConfigError(
            f"channels.ivr.{replaced[0]}: replaced by channels.ivr.recordings, a folder of "
            "recorded pieces the gateway joins and serves itself (`ors ivr prompts --lang LANG`)"
        )
    folder = r.text("channels.ivr.recordings", "")
    if not folder:
        return None
    path = Path(folder)
    return path if path.is_absolute() else base_dir / path


def _prefix_providers(r: _Reader) -> dict[str, str]:
    out: dict[str, str] = {}
    for prefix, provider in r.mapping("messaging.providers_by_prefix").items():
        name = f"messaging.providers_by_prefix.{prefix}"
        if not re.fullmatch(r"\+\d{1,4}", str(prefix)):
            raise ConfigError(f"{name}: expected a calling code such as +254")
        if provider not in PROVIDERS:
            raise ConfigError(f"{name}: expected one of {', '.join(PROVIDERS)}, got {provider!r}")
        out[str(prefix)] = str(provider)
    return out


_MISSING = object()


class _Reader:
    """Typed access to the raw YAML by dotted path, raising ConfigError naming the path."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw

    def get(self, path: str) -> Any:
        node: Any = self.raw
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return _MISSING
            node = node[part]
        return node

    def _value(self, path: str, default: Any) -> Any:
        value = self.get(path)
        return default if value is _MISSING or value is None else value

    def mapping(self, path: str) -> Mapping[str, Any]:
        value = self._value(path, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a mapping")
        return value

    def text(self, path: str, default: str) -> str:
        value = self._value(path, default)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{path}: expected text, got {value!r}")
        return str(value)

    def url(self, path: str, default: str) -> str:
        return _url(path, self.text(path, default))

    def items(self, path: str, default: list[Any]) -> list[Any]:
        value = self._value(path, default)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list")
        return value

    def choice(self, path: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(path, default)
        if value not in options:
            raise ConfigError(f"{path}: expected one of {', '.join(options)}, got {value!r}")
        return value

    def flag(self, path: str, default: bool) -> bool:
        value = self._value(path, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {value!r}")
        return value

    def whole(self, path: str, default: int, minimum: int | None = None) -> int:
        value = self._value(path, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{path}: must be at least {minimum}, got {value}")
        return value

    def number(self, path: str, default: float, value: Any = _MISSING) -> float:
        value = self._value(path, default) if value is _MISSING else value
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: expected a number ≥ 0, got {value!r}")
        return float(value)

    def positive(self, path: str, default: float) -> float:
        value = self.number(path, default)
        if value <= 0:
            raise ConfigError(f"{path}: expected a number above 0, got {value!r}")
        return value

    def share(self, path: str, default: float) -> float:
        value = self.number(path, default)
        if value > 1:
            raise ConfigError(f"{path}: expected a share between 0 and 1, got {value}")
        return value

    def clock(self, path: str, default: str) -> time:
        value = self.text(path, default)
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ConfigError(f"{path}: expected a time HH:MM, got {value!r}")
        return time(int(match[1]), int(match[2]))


MIN_WEBHOOK_TOKEN_LENGTH = 32


def check_production(settings: Settings) -> None:
    """Refuse a production start that lacks what production needs (one line, naming it).

    `create_app()`, `ors serve` and `ors worker` all call this, so no way of starting the
    service in production mode skips it.
    """
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError("ORS_DATABASE_URL: production needs PostgreSQL (postgresql+psycopg://…)")
    if not settings.redis_url:
        raise ConfigError("ORS_REDIS_URL: production needs Redis (redis://host:6379/0)")
    _check_webhook_tokens(settings.secrets.at_webhook_tokens)
    if not settings.secrets.voucher_key:
        raise ConfigError(
            "ORS_VOUCHER_KEY: required in production (create one with `ors keys new`)"
        )
    if not settings.public_base_url.startswith("https://"):
        raise ConfigError("ORS_PUBLIC_BASE_URL: production needs the public https:// address")
    if settings.at_username.strip().lower() == "sandbox":
        raise ConfigError(
            "ORS_AT_USERNAME: production refuses Africa's Talking's sandbox account "
            "(its messages are never delivered)"
        )
    _check_console_provider(settings)


def _check_webhook_tokens(tokens: tuple[str, ...]) -> None:
    if not tokens:
        raise ConfigError(
            "ORS_AT_WEBHOOK_TOKEN: production refuses to start without a webhook token"
        )
    if any(len(token) < MIN_WEBHOOK_TOKEN_LENGTH for token in tokens):
        raise ConfigError(
            f"ORS_AT_WEBHOOK_TOKEN: each token needs at least {MIN_WEBHOOK_TOKEN_LENGTH} "
            "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )


def _check_console_provider(settings: Settings) -> None:
    """The console provider sends nothing and logs every body: refused unless opted into."""
    if "console" not in (settings.sms_provider, *settings.providers_by_prefix.values()):
        return
    if not settings.allow_console_in_production:
        name = "provider" if settings.sms_provider == "console" else "providers_by_prefix"
        raise ConfigError(
            f"messaging.{name}: production refuses the console SMS provider (it sends "
            "nothing); choose africastalking or twilio, or set "
            "messaging.allow_console_in_production: true"
        )
    logging.getLogger(__name__).warning(
        "console SMS provider in production (messaging.allow_console_in_production): "
        "citizens receive no SMS"
    )
