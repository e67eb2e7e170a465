"""The HTTP edge: body limits before parsing, browser headers, trusted proxies, fail-closed start.

Review findings 2 (no body limit, forms parsed before the Twilio check), 8 (create_app fails
open), 9 (console provider in production) and 21 (no CSP, frame or nosniff headers).
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask, request
from flask.testing import FlaskClient
from flask.wrappers import Request

from gateway.app import create_app
from gateway.cli import ors
from gateway.runtime import Runtime
from gateway.settings import REPO_CONFIG, ConfigError, Settings
from gateway.web import body_limits
from gateway.web.browser_headers import HTML_CSP
from kiosk import page as kiosk_page
from tests.booking.conftest import slot_id

KIB = 1024
TWILIO_TOKEN = "twilio-auth-token"
FORM = "application/x-www-form-urlencoded"
PRODUCTION_ENV = {
    "ORS_DATABASE_URL": "postgresql+psycopg://ors@db.invalid:5432/ors",
    "ORS_REDIS_URL": "redis://cache.invalid:6379/0",
    "ORS_PUBLIC_BASE_URL": "https://ors.example.org",
    "ORS_AT_WEBHOOK_TOKEN": "at-webhook-token-0123456789abcdef",
    "ORS_AT_USERNAME": "ors-kenya",
    "ORS_VOUCHER_KEY": "/run/secrets/voucher.pem",
}


def configure(rt: Runtime, **changes: Any) -> Runtime:
    """Give the runtime's settings `changes` (secrets=… merges into the current secrets)."""
    if "secrets" in changes:
        changes["secrets"] = replace(rt.settings.secrets, **changes["secrets"])
    rt.settings = rt.settings.with_overrides(**changes)
    return rt


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    configure(runtime, secrets={"twilio_auth_token": TWILIO_TOKEN})
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def no_form_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything parses a form (the limit must answer first)."""

    def parsed(self: Request) -> None:
        raise AssertionError(f"form parsed on {self.path}")

    monkeypatch.setattr(Request, "_load_form_data", parsed)


def fields(count: int) -> bytes:
    return "&".join(f"k{i}=v" for i in range(count)).encode()


# --- body limits (finding 2) -------------------------------------------------------------------

TOO_BIG = [
    # (label, path, body, content type, headers)
    (
        "forged Twilio SMS, 4 MB",
        "/hooks/twilio/sms",
        b"k=" + b"v" * (4096 * KIB),
        FORM,
        {"X-Twilio-Signature": "forged"},
    ),
    (
        "forged Twilio status, 65 KiB",
        "/hooks/twilio/status",
        b"k=" + b"v" * (65 * KIB),
        FORM,
        {"X-Twilio-Signature": "forged"},
    ),
    (
        "Twilio SMS, 201 small fields",
        "/hooks/twilio/sms",
        fields(201),
        FORM,
        {"X-Twilio-Signature": "forged"},
    ),
    ("AT SMS, 201 small fields", "/hooks/at/sms", fields(201), FORM, {}),
    ("AT USSD, 65 KiB", "/hooks/at/ussd", b"text=" + b"1" * (65 * KIB), FORM, {}),
    (
        "kiosk API, 2 KiB of JSON",
        "/kiosk/api/v1/checkin",
        b'{"code": "' + b"1" * 2048 + b'"}',
        "application/json",
        {"Authorization": "Bearer " + "k" * 43},
    ),
    ("any other route, 65 KiB", "/v/ABCDEFGHIJK", b"x" * (65 * KIB), "text/plain", {}),
]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "headers"),
    [case[1:] for case in TOO_BIG],
    ids=[case[0] for case in TOO_BIG],
)
def test_a_body_over_its_route_limit_is_refused_before_parsing(
    client: FlaskClient,
    no_form_parsing: None,
    path: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
) -> None:
    response = client.post(path, data=body, content_type=content_type, headers=headers)
    assert response.status_code == 413


def test_a_chunked_body_without_a_length_stops_at_the_limit(
    client: FlaskClient, no_form_parsing: None
) -> None:
    response = client.post(
        "/hooks/twilio/sms",
        input_stream=io.BytesIO(b"k=" + b"v" * (65 * KIB)),
        content_type=FORM,
        headers={"Transfer-Encoding": "chunked", "X-Twilio-Signature": "forged"},
        environ_overrides={"wsgi.input_terminated": True},  # what gunicorn says of chunked
    )
    assert response.status_code == 413


def test_forms_within_the_limits_reach_the_signature_check(client: FlaskClient) -> None:
    # 200 fields and just under 64 KiB: not refused for size; the forged signature is.
    for body in (fields(200), b"k=" + b"v" * (64 * KIB - 2)):
        response = client.post(
            "/hooks/twilio/sms", data=body, content_type=FORM, headers={"X-Twilio-Signature": "x"}
        )
        assert response.status_code == 403


def test_a_route_may_declare_a_bigger_limit_of_its_own(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    app.add_url_rule("/edge-test/upload", "edge_upload", lambda: "ok", methods=["POST"])
    app.extensions[body_limits.EXTENSION].declare("/edge-test/upload", 512 * KIB)
    client = app.test_client()
    assert client.post("/edge-test/upload", data=b"x" * (300 * KIB)).status_code == 200
    assert client.post("/edge-test/upload", data=b"x" * (513 * KIB)).status_code == 413
    assert client.post("/edge-test/other", data=b"x" * (65 * KIB)).status_code == 413


# --- browser headers (finding 21) --------------------------------------------------------------


def voucher_page_path(rt: Runtime) -> str:
    confirmation = rt.booking.book(
        "+254700000001", slot_id(rt, "CARD", datetime(2026, 11, 23, 9, 0)), "ussd"
    )
    return f"/v/{confirmation.voucher_ref}"


def assert_browser_headers(headers: Any) -> None:
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp


def test_the_voucher_page_sends_a_strict_policy_and_needs_no_inline_style(
    catalog: Runtime,
) -> None:
    client = create_app(runtime=catalog).test_client()
    page = client.get(voucher_page_path(catalog))
    assert page.status_code == 200
    assert_browser_headers(page.headers)
    assert page.headers["Content-Security-Policy"] == HTML_CSP
    html = page.get_data(as_text=True)
    assert "<style" not in html and "style=" not in html and "<script" not in html
    css_href = html.split('rel="stylesheet" href="')[1].split('"')[0]
    with client.get(css_href) as css:  # a file response: closed when done
        assert (css.status_code, css.mimetype) == (200, "text/css")
        assert ".tcode" in css.get_data(as_text=True)


def test_the_kiosk_page_keeps_its_own_policy_and_gains_the_other_headers(
    client: FlaskClient,
) -> None:
    page = client.get("/kiosk/")
    assert page.status_code == 200
    assert_browser_headers(page.headers)
    assert page.headers["Content-Security-Policy"] == kiosk_page.CSP


@pytest.mark.parametrize("path", ["/", "/no/such/page"])
def test_every_html_answer_carries_the_browser_headers(client: FlaskClient, path: str) -> None:
    assert_browser_headers(client.get(path).headers)


def test_json_answers_carry_nosniff(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("base_url", "hsts"), [("https://ors.example.org", True), ("http://127.0.0.1:5000", False)]
)
def test_hsts_is_sent_whenever_the_public_address_is_https(
    runtime: Runtime, base_url: str, hsts: bool
) -> None:
    client = create_app(runtime=configure(runtime, public_base_url=base_url)).test_client()
    header = client.get("/healthz").headers.get("Strict-Transport-Security")
    assert (header is not None and header.startswith("max-age=")) == hsts


# --- trusted proxies ---------------------------------------------------------------------------


def seen_address(app: Flask, remote: str, forwarded: str) -> tuple[str, str]:
    """(client address, scheme) the app sees for a request from `remote`, or (status, "")."""
    app.add_url_rule(
        "/edge-test/who", "edge_who", lambda: f"{request.remote_addr} {request.scheme}"
    )
    headers = {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"}
    response = app.test_client().get(
        "/edge-test/who", headers=headers, environ_base={"REMOTE_ADDR": remote}
    )
    if response.status_code != 200:
        return str(response.status_code), ""
    address, scheme = response.get_data(as_text=True).split()
    return address, scheme


PROXY_CASES = [
    # (label, trusted proxies, peer, X-Forwarded-For, address seen, scheme seen)
    ("no proxy configured: headers ignored", (), "10.0.0.5", "198.51.100.9", "10.0.0.5", "http"),
    (
        "untrusted peer: headers ignored",
        ("10.0.0.0/8",),
        "203.0.113.7",
        "198.51.100.9",
        "203.0.113.7",
        "http",
    ),
    (
        "trusted peer: the client it forwards",
        ("10.0.0.0/8",),
        "10.0.0.5",
        "198.51.100.9",
        "198.51.100.9",
        "https",
    ),
    (
        "a spoofed left entry is skipped",
        ("10.0.0.0/8",),
        "10.0.0.5",
        "127.0.0.1, 198.51.100.9",
        "198.51.100.9",
        "https",
    ),
    (
        "two trusted hops",
        ("10.0.0.0/8",),
        "10.0.0.5",
        "198.51.100.9, 10.0.0.6",
        "198.51.100.9",
        "https",
    ),
    ("garbage from a trusted peer", ("10.0.0.0/8",), "10.0.0.5", "not-an-ip", "400", ""),
]


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "address", "scheme"),
    [case[1:] for case in PROXY_CASES],
    ids=[case[0] for case in PROXY_CASES],
)
def test_forwarded_headers_count_only_from_trusted_proxies(
    runtime: Runtime,
    trusted: tuple[str, ...],
    peer: str,
    forwarded: str,
    address: str,
    scheme: str,
) -> None:
    app = create_app(runtime=configure(runtime, trusted_proxies=trusted))
    assert seen_address(app, peer, forwarded) == (address, scheme)


# --- fail closed at start-up (findings 8 and 9) ------------------------------------------------


def production(settings: Settings, **env: str | None) -> Settings:
    values = {k: v for k, v in (PRODUCTION_ENV | env).items() if v is not None}
    return settings.with_overrides(
        database_url=values["ORS_DATABASE_URL"],
        redis_url=values["ORS_REDIS_URL"],
        public_base_url=values["ORS_PUBLIC_BASE_URL"],
        at_username=values["ORS_AT_USERNAME"],
        sms_provider="africastalking",
        secrets=replace(
            settings.secrets,
            at_webhook_token=values.get("ORS_AT_WEBHOOK_TOKEN", ""),
            voucher_key=values["ORS_VOUCHER_KEY"],
        ),
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ORS_AT_WEBHOOK_TOKEN": None}, "ORS_AT_WEBHOOK_TOKEN"),
        ({"ORS_AT_WEBHOOK_TOKEN": "prodtok_0123456789abcdef"}, "ORS_AT_WEBHOOK_TOKEN"),
        ({"ORS_AT_USERNAME": "sandbox"}, "ORS_AT_USERNAME"),
    ],
    ids=["no token", "24-character token", "sandbox"],
)
def test_create_app_refuses_an_incomplete_production_configuration(
    settings: Settings, change: dict[str, str | None], named: str
) -> None:
    with pytest.raises(ConfigError) as error:
        create_app(production(settings, **change))  # fails before any connection is made
    assert str(error.value).startswith(f"{named}: ")


def test_create_app_refuses_the_console_provider_in_production(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"^messaging\.provider: "):
        create_app(production(settings).with_overrides(sms_provider="console"))


def write_config(folder: Path, provider: str) -> Path:
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(folder / "data")
    raw["messaging"]["provider"] = provider
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["serve", "worker"])
@pytest.mark.parametrize(
    ("provider", "change", "named"),
    [
        ("console", {}, "messaging.provider"),
        ("africastalking", {"ORS_AT_USERNAME": "sandbox"}, "ORS_AT_USERNAME"),
        ("africastalking", {"ORS_AT_WEBHOOK_TOKEN": "short"}, "ORS_AT_WEBHOOK_TOKEN"),
    ],
    ids=["console", "sandbox", "short token"],
)
def test_serve_and_worker_run_the_same_production_check(
    tmp_path: Path, command: str, provider: str, change: dict[str, str], named: str
) -> None:
    env = PRODUCTION_ENV | change | {"ORS_CONFIG": str(write_config(tmp_path, provider))}
    result = CliRunner().invoke(ors, [command], env=env)
    assert isinstance(result.exception, ConfigError), result.output
    assert str(result.exception).startswith(f"{named}: ")
