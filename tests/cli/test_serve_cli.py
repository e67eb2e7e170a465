"""`ors serve`: the gunicorn it configures (gunicorn itself is not started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from gunicorn.app.base import BaseApplication

from gateway.cli import ors
from gateway.settings import REPO_CONFIG

PRODUCTION_ENV = {
    "ORS_DATABASE_URL": "postgresql+psycopg://ors@db.invalid:5432/ors",
    "ORS_REDIS_URL": "redis://cache.invalid:6379/0",
    "ORS_PUBLIC_BASE_URL": "https://ors.example.org",
    "ORS_AT_WEBHOOK_TOKEN": "at-webhook-token-0123456789abcdef",
    "ORS_AT_USERNAME": "ors-kenya",
    "ORS_VOUCHER_KEY": "/run/secrets/voucher.pem",
}


@pytest.fixture
def gunicorn_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Run `ors serve` up to gunicorn's start; the settings it would run with."""
    seen: dict[str, Any] = {}

    def run(app: BaseApplication) -> None:
        names = ("worker_class_str", "workers", "threads", "timeout", "graceful_timeout")
        seen.update({name: getattr(app.cfg, name) for name in names})

    monkeypatch.setattr(BaseApplication, "run", run)
    # `ors serve` sets PROMETHEUS_MULTIPROC_DIR for its workers; in-process it would outlive the
    # test and switch every later /metrics read of this process to multiprocess mode.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(tmp_path / "data")
    raw["messaging"]["provider"] = "africastalking"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(ors, ["serve"], env=PRODUCTION_ENV | {"ORS_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    return seen


def test_serve_runs_threaded_workers_with_bounded_heartbeat_and_shutdown(
    gunicorn_config: dict[str, Any],
) -> None:
    assert gunicorn_config == {
        "worker_class_str": "gthread",
        "workers": 2,
        "threads": 4,  # spare threads for /healthz while hops wait on a sick database
        "timeout": 30,
        "graceful_timeout": 10,  # twice the 5 s hop deadline
    }
