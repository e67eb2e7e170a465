"""The app factory and the operators' routes: /healthz, /readyz, /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from redis import Redis

from gateway.app import create_app
from gateway.clock import FixedClock
from gateway.db import make_engine
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings
from gateway.voucher_keys import VoucherKeys

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
PUBLIC = {"REMOTE_ADDR": "203.0.113.7"}  # a caller on the internet
METRICS_TOKEN = "metrics-token-0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _single_process_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


@pytest.fixture
def sqlite_runtime(
    settings: Settings, clock: FixedClock, voucher_keys: VoucherKeys, tmp_path: Path
) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite file (readiness needs no schema) and no Redis."""
    rt = build_runtime(
        settings,
        engine=make_engine(f"sqlite:///{tmp_path / 'ready.sqlite3'}"),
        clock=clock,
        keys=voucher_keys,
    )
    yield rt
    rt.close()


def requests_total(route: str, status: str, method: str = "GET") -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("ors_http_requests_total", labels) or 0.0


def test_the_runtime_is_kept_in_the_app_extensions(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    assert isinstance(app, Flask)
    assert app.extensions["ors"] is runtime


def test_healthz_answers_ok(runtime: Runtime) -> None:
    response = create_app(runtime=runtime).test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_200_on_a_working_database(runtime: Runtime) -> None:
    response = create_app(runtime=runtime).test_client().get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    settings: Settings, clock: FixedClock, voucher_keys: VoucherKeys
) -> None:
    engine = make_engine(UNREACHABLE_DATABASE, connect_args={"connect_timeout": 1})
    rt = build_runtime(settings, engine=engine, clock=clock, keys=voucher_keys)
    try:
        response = create_app(runtime=rt).test_client().get("/readyz")
    finally:
        rt.close()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert [p.split(":")[0] for p in body["problems"]] == ["database"]


def test_readyz_is_503_naming_redis_when_it_does_not_answer(sqlite_runtime: Runtime) -> None:
    sqlite_runtime.redis = Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=1, socket_timeout=1
    )
    response = create_app(runtime=sqlite_runtime).test_client().get("/readyz")
    assert response.status_code == 503
    assert [p.split(":")[0] for p in response.get_json()["problems"]] == ["redis"]


@pytest.mark.redis
def test_readyz_is_200_with_a_working_redis(sqlite_runtime: Runtime, redis_client: Redis) -> None:
    sqlite_runtime.redis = redis_client
    response = create_app(runtime=sqlite_runtime).test_client().get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_metrics_count_requests_by_route(sqlite_runtime: Runtime) -> None:
    client = create_app(runtime=sqlite_runtime).test_client()
    before = requests_total("/healthz", "200")
    client.get("/healthz")
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "ors_http_requests_total{" in body
    assert 'route="/healthz"' in body
    assert requests_total("/healthz", "200") == before + 2


def test_metrics_label_the_route_rule_never_the_raw_path(sqlite_runtime: Runtime) -> None:
    app = create_app(runtime=sqlite_runtime)
    app.add_url_rule("/foundation-test/<ref>", "foundation_test_ref", lambda ref: "ok")
    client = app.test_client()
    before = requests_total("/foundation-test/<ref>", "200")
    assert client.get("/foundation-test/SECRETREF0001").status_code == 200
    assert client.get("/no/such/SECRETREF0002?token=abc").status_code == 404
    body = client.get("/metrics").get_data(as_text=True)
    assert requests_total("/foundation-test/<ref>", "200") == before + 1
    assert requests_total("unmatched", "404") >= 1
    assert "SECRETREF" not in body
    assert "token=abc" not in body


def test_metrics_label_unknown_http_methods_as_other(sqlite_runtime: Runtime) -> None:
    client = create_app(runtime=sqlite_runtime).test_client()
    before = requests_total("unmatched", "404", method="other")
    for method in ("PROBEA", "PROBEB", "PROBEC"):
        client.open(f"/nonexistent-{method}", method=method)
    body = client.get("/metrics").get_data(as_text=True)
    assert "PROBE" not in body
    assert requests_total("unmatched", "404", method="other") == before + 3


def with_metrics_token(rt: Runtime, token: str) -> Runtime:
    rt.settings = rt.settings.with_overrides(
        secrets=replace(rt.settings.secrets, metrics_token=token)
    )
    return rt


METRICS_ACCESS = [
    # (label, metrics token configured, REMOTE_ADDR, extra headers, expected status)
    ("loopback, no token configured", "", "127.0.0.1", {}, 200),
    ("IPv6 loopback, no token configured", "", "::1", {}, 200),
    ("public caller, no token configured", "", "203.0.113.7", {}, 403),
    (
        "local proxy forwarding a public caller",
        "",
        "127.0.0.1",
        {"X-Forwarded-For": "203.0.113.7"},
        403,
    ),
    ("loopback without the configured token", METRICS_TOKEN, "127.0.0.1", {}, 403),
    (
        "public caller with the token",
        METRICS_TOKEN,
        "203.0.113.7",
        {"Authorization": f"Bearer {METRICS_TOKEN}"},
        200,
    ),
    (
        "public caller with a wrong token",
        METRICS_TOKEN,
        "203.0.113.7",
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        403,
    ),
]


@pytest.mark.parametrize(
    ("token", "remote", "headers", "status"),
    [case[1:] for case in METRICS_ACCESS],
    ids=[case[0] for case in METRICS_ACCESS],
)
def test_metrics_answer_loopback_or_the_bearer_of_the_metrics_token(
    sqlite_runtime: Runtime, token: str, remote: str, headers: dict[str, str], status: int
) -> None:
    client = create_app(runtime=with_metrics_token(sqlite_runtime, token)).test_client()
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == status
    if status == 200:
        assert "ors_http_requests_total" in response.get_data(as_text=True)


def test_readyz_tells_the_public_only_ok_or_not(sqlite_runtime: Runtime) -> None:
    client = create_app(runtime=sqlite_runtime).test_client()
    assert client.get("/readyz", environ_base=PUBLIC).get_json() == {"status": "ready"}
    sqlite_runtime.redis = Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=1, socket_timeout=1
    )
    public = client.get("/readyz", environ_base=PUBLIC)
    assert (public.status_code, public.get_json()) == (503, {"status": "unavailable"})
    local = client.get("/readyz")  # the test client calls from 127.0.0.1
    assert local.status_code == 503
    assert [p.split(":")[0] for p in local.get_json()["problems"]] == ["redis"]
