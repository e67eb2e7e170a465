"""Settings: config.yaml defaults, ORS_* overrides, errors naming the setting, production checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import (
    REPO_CONFIG,
    BlockPolicy,
    BookingRules,
    ConfigError,
    Secrets,
    Settings,
    check_production,
    load_settings,
    parse_settings,
)

REPO_RAW: dict[str, Any] = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
PG_URL = "postgresql+psycopg://ors@db.example:5432/ors"


def raw_with(path: str, value: Any) -> dict[str, Any]:
    """The repository's config.yaml with one dotted path set (intermediate mappings created)."""
    raw = copy.deepcopy(REPO_RAW)
    node = raw
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value
    return raw


def parse(raw: dict[str, Any], env: dict[str, str] | None = None) -> Settings:
    return parse_settings(raw, env or {}, base_dir=REPO_CONFIG.parent)


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_load_from_repository_config() -> None:
    s = load_settings(env={})
    assert (s.database_url, s.redis_url, s.embedded) == ("", "", True)
    assert s.public_base_url == "http://127.0.0.1:5000"
    assert (s.default_region, s.default_language, s.languages) == ("KE", "en", ("en", "sw"))
    assert s.data_dir == REPO_CONFIG.parent / "var"
    assert s.sms_provider == "console"
    assert s.reminders_hours == (24.0, 3.0)
    assert (s.quiet_start, s.quiet_end) == (time(21, 0), time(7, 0))
    assert s.ussd_service_code == "*384*123#"
    assert s.booking.hospitals == {}
    assert s.secrets == Secrets()


def test_config_yaml_rules_match_the_documented_defaults() -> None:
    # README, The booking rules, lists the defaults; config.yaml and the dataclass must both say
    # the same.
    assert load_settings(env={}).booking.defaults == BookingRules()
    assert BookingRules().no_show_block == BlockPolicy(True, 3, 90, 30)
    assert BookingRules().cancel_block == BlockPolicy(True, 5, 30, 7)


def test_embedded_database_is_a_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    s = load_settings(env={}).with_overrides(data_dir=tmp_path)
    assert s.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'ors.sqlite3'}"


def test_load_settings_reads_the_file_named_by_ors_config(tmp_path: Path) -> None:
    path = tmp_path / "ors.yaml"
    path.write_text(yaml.safe_dump(raw_with("app.data_dir", "state")), encoding="utf-8")
    s = load_settings(env={"ORS_CONFIG": str(path)})
    assert s.data_dir == tmp_path / "state"  # a relative data_dir is read beside the file
    assert load_settings(env={}, path=path) == s


def test_an_empty_config_file_gives_the_built_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    s = load_settings(env={}, path=path)
    assert s.booking.defaults == BookingRules()
    assert s.public_base_url == "http://127.0.0.1:5000"


# --- environment overrides --------------------------------------------------------------------

ENV_CASES: list[tuple[str, str, Callable[[Settings], Any], Any]] = [
    ("ORS_DATABASE_URL", PG_URL, lambda s: (s.database_url, s.embedded), (PG_URL, False)),
    (
        "ORS_DATABASE_URL",
        "sqlite:////srv/ors.db",
        lambda s: s.effective_database_url,
        "sqlite:////srv/ors.db",
    ),
    ("ORS_REDIS_URL", "redis://cache:6379/2", lambda s: s.redis_url, "redis://cache:6379/2"),
    (
        "ORS_PUBLIC_BASE_URL",
        "https://ors.example.org",
        lambda s: s.public_base_url,
        "https://ors.example.org",
    ),
    ("ORS_AT_USERNAME", "ors-live", lambda s: s.at_username, "ors-live"),
    ("ORS_AT_BASE_URL", "http://127.0.0.1:9000/", lambda s: s.at_base_url, "http://127.0.0.1:9000"),
    ("ORS_SECRET_KEY", "s-1", lambda s: s.secrets.secret_key, "s-1"),
    ("ORS_AT_API_KEY", "s-2", lambda s: s.secrets.at_api_key, "s-2"),
    ("ORS_AT_WEBHOOK_TOKEN", "s-3", lambda s: s.secrets.at_webhook_token, "s-3"),
    ("ORS_TWILIO_ACCOUNT_SID", "s-4", lambda s: s.secrets.twilio_account_sid, "s-4"),
    ("ORS_TWILIO_AUTH_TOKEN", "s-5", lambda s: s.secrets.twilio_auth_token, "s-5"),
    ("ORS_TWILIO_FROM", "+15005550006", lambda s: s.secrets.twilio_from, "+15005550006"),
    (
        "ORS_VOUCHER_KEY",
        "/run/secrets/voucher.pem",
        lambda s: s.secrets.voucher_key,
        "/run/secrets/voucher.pem",
    ),
    ("ORS_ID_HASH_KEY", "s-6", lambda s: s.secrets.id_hash_key, "s-6"),
]


@pytest.mark.parametrize(
    ("name", "value", "read", "expected"), ENV_CASES, ids=[f"{c[0]}={c[1]}" for c in ENV_CASES]
)
def test_each_environment_override_applies(
    name: str, value: str, read: Callable[[Settings], Any], expected: Any
) -> None:
    assert read(parse(REPO_RAW)) != expected
    assert read(parse(REPO_RAW, {name: value})) == expected


def test_environment_wins_over_the_file() -> None:
    raw = raw_with("database.url", "postgresql+psycopg://file@db/ors")
    raw["redis"] = {"url": "redis://file:6379/0"}
    s = parse(raw, {"ORS_DATABASE_URL": PG_URL, "ORS_REDIS_URL": "redis://env:6379/1"})
    assert (s.database_url, s.redis_url) == (PG_URL, "redis://env:6379/1")


def test_the_africas_talking_host_comes_from_the_file_or_the_environment() -> None:
    assert parse(REPO_RAW).at_base_url == ""  # the SDK's own host
    raw = raw_with("channels.africastalking.base_url", "https://at-proxy.example/")
    assert parse(raw).at_base_url == "https://at-proxy.example"
    env = {"ORS_AT_BASE_URL": "http://127.0.0.1:9000"}
    assert parse(raw, env).at_base_url == "http://127.0.0.1:9000"


def test_a_trailing_slash_on_the_public_base_url_is_dropped_from_file_and_env() -> None:
    # Twilio signatures are checked against URLs rebuilt from it: "//hooks" would never match.
    assert (
        parse(raw_with("app.public_base_url", "https://a.example/")).public_base_url
        == "https://a.example"
    )
    assert (
        parse(REPO_RAW, {"ORS_PUBLIC_BASE_URL": "https://b.example/"}).public_base_url
        == "https://b.example"
    )


# --- bad values -------------------------------------------------------------------------------

BAD_FILE_VALUES: list[tuple[str, Any, str]] = [
    # (dotted path set in config.yaml, bad value, setting the message must start with)
    ("booking.defaults.max_per_day", "x", "booking.defaults.max_per_day"),
    ("booking.defaults.max_per_day", 0, "booking.defaults.max_per_day"),
    ("booking.defaults.horizon_days", 1.5, "booking.defaults.horizon_days"),
    ("booking.defaults.remote_share", 1.5, "booking.defaults.remote_share"),
    ("booking.defaults.remote_share", -0.1, "booking.defaults.remote_share"),
    ("booking.defaults.release_time", "25:00", "booking.defaults.release_time"),
    ("booking.defaults.release_time", "7am", "booking.defaults.release_time"),
    ("booking.defaults.real_name", "yes", "booking.defaults.real_name"),
    ("booking.defaults.max_per_dya", 1, "booking.defaults.max_per_dya"),
    ("booking.defaults.no_show_block.count", 0, "booking.defaults.no_show_block.count"),
    ("booking.defaults.cancel_block.enabled", "on", "booking.defaults.cancel_block.enabled"),
    ("booking.defaults.no_show_block.cuont", 4, "booking.defaults.no_show_block.cuont"),
    ("booking.defaults.no_show_block", "off", "booking.defaults.no_show_block"),
    ("booking.hospitals", {"knh": {"max_per_day": 1}}, "booking.hospitals.knh"),
    ("booking.hospitals", {"KNH": {"max_per_day": "one"}}, "booking.hospitals.KNH.max_per_day"),
    ("booking.hospitals", {"KNH": {"maxperday": 1}}, "booking.hospitals.KNH.maxperday"),
    ("booking.hospitals", {"KNH": {"remote_share": 2}}, "booking.hospitals.KNH.remote_share"),
    ("messaging.provider", "bogus", "messaging.provider"),
    ("messaging.providers_by_prefix", {"254": "twilio"}, "messaging.providers_by_prefix.254"),
    ("messaging.providers_by_prefix", {"+254": "bogus"}, "messaging.providers_by_prefix.+254"),
    ("messaging.reminders_hours", [24, -3], "messaging.reminders_hours[1]"),
    ("messaging.quiet_hours.start", "9pm", "messaging.quiet_hours.start"),
    ("app.public_base_url", "ftp://ors.example", "app.public_base_url"),
    ("channels.africastalking.base_url", "127.0.0.1:9000", "channels.africastalking.base_url"),
    ("app.log_level", "LOUD", "app.log_level"),
    ("app.languages", "en", "app.languages"),
    ("app.default_language", "fr", "app.default_language"),
    ("channels.ussd.session_ttl_seconds", 5, "channels.ussd.session_ttl_seconds"),
    ("database.url", "mysql://ors@db/ors", "database.url"),
    ("redis.url", "http://cache:6379", "redis.url"),
]


@pytest.mark.parametrize(
    ("path", "value", "setting"), BAD_FILE_VALUES, ids=[f"{c[0]}={c[1]!r}" for c in BAD_FILE_VALUES]
)
def test_a_bad_file_value_names_its_setting(path: str, value: Any, setting: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(raw_with(path, value))
    assert str(error.value).startswith(f"{setting}: "), str(error.value)
    assert "\n" not in str(error.value)


BAD_ENV_VALUES = [
    ("ORS_DATABASE_URL", "mysql://ors@db/ors"),
    ("ORS_DATABASE_URL", "postgres-ish"),
    ("ORS_REDIS_URL", "http://cache:6379/0"),
    ("ORS_PUBLIC_BASE_URL", "ors.example.org"),
    ("ORS_PUBLIC_BASE_URL", "ftp://ors.example.org"),
    ("ORS_AT_BASE_URL", "fake-at:9000"),
]


@pytest.mark.parametrize(
    ("name", "value"), BAD_ENV_VALUES, ids=[f"{n}={v}" for n, v in BAD_ENV_VALUES]
)
def test_a_bad_environment_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(REPO_RAW, {name: value})
    assert str(error.value).startswith(f"{name}: "), str(error.value)


def test_an_unquoted_time_in_the_file_still_names_the_setting(tmp_path: Path) -> None:
    # YAML 1.1 reads 25:00 as the base-60 number 1500; the error must still say where.
    text = REPO_CONFIG.read_text(encoding="utf-8").replace(
        'release_time: "00:00"', "release_time: 25:00"
    )
    assert "release_time: 25:00" in text
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^booking\.defaults\.release_time: "):
        load_settings(env={}, path=path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "file not found"),
        ("app: [unclosed", "not valid YAML"),
        ("- a list", "mapping"),
    ],
)
def test_an_unreadable_config_file_names_ors_config(
    tmp_path: Path, content: str | None, fragment: str
) -> None:
    path = tmp_path / "config.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(env={"ORS_CONFIG": str(path)})
    assert str(error.value).startswith("ORS_CONFIG: ")
    assert fragment in str(error.value)


# --- per-hospital rules -----------------------------------------------------------------------


def test_per_hospital_overrides_inherit_the_global_defaults() -> None:
    raw = raw_with("booking.defaults.horizon_days", 10)
    raw["booking"]["defaults"]["no_show_block"] = {
        "enabled": True,
        "count": 4,
        "window_days": 60,
        "block_days": 14,
    }
    raw["booking"]["hospitals"] = {
        "KNH": {"max_per_day": 1, "real_name": True, "no_show_block": {"count": 2}}
    }
    booking = parse(raw).booking
    knh = booking.rules_for("KNH")
    assert (knh.max_per_day, knh.real_name) == (1, True)
    assert knh.horizon_days == 10  # from the (changed) global defaults, not the built-in 14
    assert knh.no_show_block == BlockPolicy(enabled=True, count=2, window_days=60, block_days=14)
    assert knh.cancel_block == booking.defaults.cancel_block
    assert booking.rules_for("MCH") == booking.defaults
    assert booking.defaults.max_per_day == 2


def test_a_hospital_without_overrides_gets_the_defaults_unchanged() -> None:
    booking = parse(raw_with("booking.hospitals", {"KNH": {}})).booking
    assert booking.rules_for("KNH") == booking.defaults == BookingRules()


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_never_appear_in_a_repr() -> None:
    env = {
        name: f"topsecret-{i}"
        for i, name in enumerate(
            [
                "ORS_SECRET_KEY",
                "ORS_AT_API_KEY",
                "ORS_AT_WEBHOOK_TOKEN",
                "ORS_TWILIO_ACCOUNT_SID",
                "ORS_TWILIO_AUTH_TOKEN",
                "ORS_VOUCHER_KEY",
                "ORS_ID_HASH_KEY",
            ]
        )
    }
    s = parse(REPO_RAW, env)
    assert s.secrets.at_webhook_token == "topsecret-2"
    for text in (repr(s.secrets), str(s.secrets), repr(s), str(s)):
        assert "topsecret" not in text
    assert "hidden" in repr(s.secrets)


def test_settings_are_frozen() -> None:
    s = load_settings(env={})
    with pytest.raises(AttributeError):
        s.database_url = PG_URL  # type: ignore[misc]  # a frozen field: the test is that it fails


# --- production -------------------------------------------------------------------------------

WEBHOOK_TOKEN = "at-webhook-token-0123456789abcdef"  # 33 characters: the minimum is 32
# Production sends real SMS: the repository's console default is refused there (finding 9).
PRODUCTION_RAW = raw_with("messaging.provider", "africastalking")
PRODUCTION_ENV = {
    "ORS_DATABASE_URL": PG_URL,
    "ORS_REDIS_URL": "redis://cache:6379/0",
    "ORS_PUBLIC_BASE_URL": "https://ors.example.org",
    "ORS_AT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
    "ORS_AT_USERNAME": "ors-kenya",
    "ORS_AT_API_KEY": "at-api-key",
    "ORS_VOUCHER_KEY": "/run/secrets/voucher.pem",
    "ORS_SECRET_KEY": "flask-secret",
    "ORS_ID_HASH_KEY": "id-hash-key",
}


def test_a_complete_production_configuration_passes() -> None:
    check_production(parse(PRODUCTION_RAW, PRODUCTION_ENV))


def test_production_accepts_two_tokens_during_a_rotation() -> None:
    env = PRODUCTION_ENV | {"ORS_AT_WEBHOOK_TOKEN": f"{WEBHOOK_TOKEN}, {'n' * 40}"}
    settings = parse(PRODUCTION_RAW, env)
    check_production(settings)
    assert settings.secrets.at_webhook_tokens == (WEBHOOK_TOKEN, "n" * 40)


MISSING_IN_PRODUCTION = [
    # (variable changed, its value then (None: unset), name the refusal must start with)
    ("ORS_DATABASE_URL", None, "ORS_DATABASE_URL"),
    ("ORS_DATABASE_URL", "sqlite:////srv/ors.db", "ORS_DATABASE_URL"),
    ("ORS_REDIS_URL", None, "ORS_REDIS_URL"),
    ("ORS_AT_WEBHOOK_TOKEN", None, "ORS_AT_WEBHOOK_TOKEN"),
    ("ORS_AT_WEBHOOK_TOKEN", " , ", "ORS_AT_WEBHOOK_TOKEN"),
    ("ORS_AT_WEBHOOK_TOKEN", "t" * 31, "ORS_AT_WEBHOOK_TOKEN"),
    ("ORS_AT_WEBHOOK_TOKEN", f"{WEBHOOK_TOKEN},short-old-token", "ORS_AT_WEBHOOK_TOKEN"),
    ("ORS_AT_USERNAME", "sandbox", "ORS_AT_USERNAME"),
    ("ORS_AT_USERNAME", None, "ORS_AT_USERNAME"),  # the file's default is sandbox
    ("ORS_VOUCHER_KEY", None, "ORS_VOUCHER_KEY"),
    ("ORS_PUBLIC_BASE_URL", None, "ORS_PUBLIC_BASE_URL"),
    ("ORS_PUBLIC_BASE_URL", "http://ors.example.org", "ORS_PUBLIC_BASE_URL"),
]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    MISSING_IN_PRODUCTION,
    ids=[f"{n}={v}" for n, v, _ in MISSING_IN_PRODUCTION],
)
def test_production_refuses_each_missing_piece_by_name(
    name: str, value: str | None, named: str
) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    if value is not None:
        env[name] = value
    with pytest.raises(ConfigError) as error:
        check_production(parse(PRODUCTION_RAW, env))
    assert str(error.value).startswith(f"{named}: "), str(error.value)
    assert "\n" not in str(error.value)


CONSOLE_IN_PRODUCTION = [
    # (config path, value, name the refusal must start with)
    ("messaging.provider", "console", "messaging.provider"),
    ("messaging.providers_by_prefix", {"+254": "console"}, "messaging.providers_by_prefix"),
]


@pytest.mark.parametrize(("path", "value", "named"), CONSOLE_IN_PRODUCTION)
def test_production_refuses_the_console_provider(path: str, value: Any, named: str) -> None:
    raw = copy.deepcopy(PRODUCTION_RAW)
    raw["messaging"][path.split(".")[1]] = value
    with pytest.raises(ConfigError) as error:
        check_production(parse(raw, PRODUCTION_ENV))
    assert str(error.value).startswith(f"{named}: "), str(error.value)
    assert "allow_console_in_production" in str(error.value)


def test_console_in_production_when_allowed_warns_at_every_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = copy.deepcopy(PRODUCTION_RAW)
    raw["messaging"].update(provider="console", allow_console_in_production=True)
    settings = parse(raw, PRODUCTION_ENV)
    with caplog.at_level("WARNING", logger="gateway.settings"):
        check_production(settings)
        check_production(settings)
    warnings = [r for r in caplog.records if "console SMS provider" in r.getMessage()]
    assert len(warnings) == 2
