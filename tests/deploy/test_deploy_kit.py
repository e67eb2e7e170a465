"""The deployment kit in deploy/ agrees with the code it deploys: the env template names every
ORS_* variable the code reads, the units start real `ors` commands with the env file, nginx
lets through the largest body the app accepts and waits out a hop, and the alert rules read
only metrics something produces. Structure only: `deploy/check` runs the tools themselves."""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from gateway.booking.models import Base
from gateway.cli import ors
from gateway.messaging.sending import DEAD_LETTER
from gateway.messaging.statuses import MessageStatus
from gateway.settings import REPO_CONFIG, check_production, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV_TEMPLATE = DEPLOY / "ors.env.example"
UNITS = DEPLOY / "systemd"
SITE = DEPLOY / "nginx" / "ors.conf"
ALERTS = DEPLOY / "prometheus" / "ors-alerts.yml"
QUERIES = DEPLOY / "prometheus" / "ors-queries.yaml"
CODE_PACKAGES = ("gateway", "menus", "kiosk", "tcode")
SERVICES = ("ors-web.service", "ors-worker.service", "ors-backup.service")
# Metrics of the exporters the rules also read (deploy/prometheus/prometheus.yml).
EXPORTER_METRICS = {"up", "probe_success"}


def code_files() -> Iterator[Path]:
    for package in CODE_PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def env_names_read_by_code() -> set[str]:
    """Every quoted ORS_* name in the code: settings' table, os.environ and env.get calls."""
    names: set[str] = set()
    for path in code_files():
        names |= set(re.findall(r"[\"'](ORS_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def template_values() -> dict[str, str]:
    """The NAME=value lines of the env template that are not commented out."""
    values = {}
    for line in ENV_TEMPLATE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def exec_start(name: str) -> list[str]:
    return shlex.split(unit(name)["Service"]["ExecStart"])


def test_the_env_template_sets_every_ors_variable_the_code_reads_and_no_other() -> None:
    read = env_names_read_by_code()
    assert {"ORS_DATABASE_URL", "ORS_VOUCHER_KEY", "ORS_CONFIG"} <= read  # the scan works
    assert set(template_values()) == read


def test_the_env_template_is_shaped_for_production() -> None:
    # The SMS provider is chosen in the config file (console there, for the demo); everything
    # the environment brings passes the production check as the template writes it.
    settings = load_settings(env=template_values(), path=REPO_CONFIG)
    check_production(settings.with_overrides(sms_provider="africastalking"))
    secrets = [v for n, v in template_values().items() if n.endswith(("_KEY", "_TOKEN")) and v]
    assert secrets and all("CHANGE-ME" in v for v in secrets if not v.startswith("/"))


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_reads_the_env_file_as_ors_and_is_hardened(name: str) -> None:
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/ors/ors.env"
    assert (service["User"], service["Group"]) == ("ors", "ors")
    assert service.get("DynamicUser", "no") == "no"
    for key, value in {
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_starts_a_file_of_the_checkout_at_opt_ors(name: str) -> None:
    program = exec_start(name)[0]
    assert program.startswith("/opt/ors/")
    shipped = ROOT / program.removeprefix("/opt/ors/")
    if shipped.parts[len(ROOT.parts)] != ".venv":  # the venv is made by `make install`
        assert shipped.is_file() and shipped.stat().st_mode & 0o111


@pytest.mark.parametrize(
    ("name", "command"), [("ors-web.service", "serve"), ("ors-worker.service", "worker")]
)
def test_web_and_worker_run_real_ors_commands(name: str, command: str) -> None:
    program, subcommand, *args = exec_start(name)
    assert program == "/opt/ors/.venv/bin/ors" and subcommand == command
    assert unit(name)["Service"]["Restart"] == "on-failure"
    cli = ors.commands[command]
    cli.make_context(command, list(args))  # raises click.UsageError on an unknown option


def test_web_and_worker_share_the_metrics_directory() -> None:
    def multiproc_dir(name: str) -> str:
        env = dict(
            shlex.split(line)[0].split("=", 1)
            for line in unit(name)["Service"]["Environment"].splitlines()
        )
        return env["PROMETHEUS_MULTIPROC_DIR"]

    assert multiproc_dir("ors-web.service") == multiproc_dir("ors-worker.service")


def test_the_backup_timer_starts_the_backup_service() -> None:
    timer = unit("ors-backup.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"].get("Unit", "ors-backup.service") == "ors-backup.service"
    assert unit("ors-backup.service")["Service"]["Type"] == "oneshot"


def site_directive(name: str) -> list[str]:
    pattern = rf"^\s*{name}\s+([^;{{]+);"  # one-line directives, never a block's opening
    return re.findall(pattern, SITE.read_text(encoding="utf-8"), re.M)


def nginx_size(text: str) -> int:
    number, unit_ = re.fullmatch(r"(\d+)([kKmM]?)", text).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit_.lower()]


def test_nginx_lets_through_the_largest_body_the_app_accepts() -> None:
    limits = load_settings(env={}, path=REPO_CONFIG).body_limits
    (size,) = site_directive("client_max_body_size")
    assert nginx_size(size) >= max(limits.hooks, limits.kiosk, limits.default)


def test_nginx_waits_longer_than_a_hop_may_take() -> None:
    deadline = load_settings(env={}, path=REPO_CONFIG).timeouts.hop_deadline
    (read,) = site_directive("proxy_read_timeout")
    assert int(read.removesuffix("s")) >= deadline + 1


def test_nginx_forwards_to_the_web_unit_on_loopback_with_the_headers_the_app_reads() -> None:
    args = exec_start("ors-web.service")
    host, port = args[args.index("--host") + 1], args[args.index("--port") + 1]
    assert site_directive("server") == [f"{host}:{port}"]
    # A proxy on loopback: `app.trusted_proxies: [127.0.0.1]`, as deploy/README.md sets it.
    assert host == "127.0.0.1"
    assert "trusted_proxies: [127.0.0.1]" in (DEPLOY / "README.md").read_text(encoding="utf-8")
    headers = dict(h.split(None, 1) for h in site_directive("proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    # The AT token travels in ?token=: the access log gets $uri (no query) only.
    formats = " ".join(site_directive("log_format"))
    assert "$request " not in formats and "$request_uri" not in formats and "$args" not in formats


def metrics_defined_in_code() -> set[str]:
    """The names prometheus_client exposes for every metric the code declares."""
    exposed: set[str] = set()
    declared = re.compile(r"\b(Counter|Gauge|Histogram)\(\s*\"(\w+)\"")
    for path in code_files():
        for kind, name in declared.findall(path.read_text(encoding="utf-8")):
            base = name.removesuffix("_total")
            exposed |= {
                "Counter": {f"{base}_total"},
                "Gauge": {name},
                "Histogram": {f"{name}_bucket", f"{name}_sum", f"{name}_count"},
            }[kind]
    return exposed


def metrics_from_queries() -> set[str]:
    """postgres_exporter names a query's value columns <query>_<column>."""
    names = set()
    for query, spec in yaml.safe_load(QUERIES.read_text(encoding="utf-8")).items():
        for column in spec["metrics"]:
            ((name, meta),) = column.items()
            if meta["usage"] != "LABEL":
                names.add(f"{query}_{name}")
    return names


def alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_alert_rules_read_only_metrics_that_something_produces() -> None:
    known = metrics_defined_in_code() | metrics_from_queries() | EXPORTER_METRICS
    assert {"ors_dead_letters_total", "ors_http_request_seconds_bucket"} <= known
    used = set()
    for rule in alert_rules():
        expr = str(rule["expr"])
        used |= set(re.findall(r"\b(ors_\w+|probe_\w+|up)\b\s*[{\[)]", expr))
    assert used and used <= known, used - known


def test_alerts_cover_readiness_dead_letters_sms_failures_and_queue_age() -> None:
    exprs = {str(rule["alert"]): str(rule["expr"]) for rule in alert_rules()}
    assert "/readyz" not in exprs["OrsNotReady"] and "probe_success" in exprs["OrsNotReady"]
    assert "ors_dead_letters_total" in exprs["OrsDeadLetters"]
    assert "ors_sms_recent_messages" in exprs["OrsSmsFailureRate"]
    assert "ors_queue_oldest_due_message_seconds" in exprs["OrsSmsQueueStuck"]
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical")  # type: ignore[index]
        assert rule["annotations"]["summary"]  # type: ignore[index]


def test_alert_rules_name_real_message_statuses() -> None:
    statuses = {s.value for s in MessageStatus}
    text = ALERTS.read_text(encoding="utf-8") + QUERIES.read_text(encoding="utf-8")
    for group in re.findall(r"status\s*=~?\s*[\"']([\w|]+)[\"']", text):
        assert set(group.split("|")) <= statuses, group


def test_the_exporter_queries_name_real_tables_and_columns() -> None:
    spec = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    sql = " ".join(query["query"] for query in spec.values())
    tables = set(re.findall(r"\bFROM\s+([a-z_]+)", sql)) - {"epoch"}
    assert tables == {"messages", "events", "inbound_failures"}
    columns = {c.name for t in tables for c in Base.metadata.tables[t].columns}
    used = set(re.findall(r"\b([a-z]+_(?:at|error))\b", sql)) | {"status"}
    assert used <= columns, used - columns
    assert f"LIKE '{DEAD_LETTER}%'" in sql  # the prefix `ors outbox dead` looks for


def test_the_license_is_the_one_pyproject_names() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = \{ text = "Apache-2.0" \}$', pyproject, re.M)
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_ors_command_in_the_deploy_readme_exists() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    blocks = " ".join(re.findall(r"```\w*\n(.*?)```", readme, re.S))
    # Commands run through bin/ors or ors-env in the blocks, and `ors …` spans in the text.
    used = re.findall(r"(?:bin/ors|ors-env) ([a-z]+)(?: ([a-z]+))?", blocks)
    used += re.findall(r"`ors ([a-z]+)(?: ([a-z]+))?", readme)
    assert len(used) > 10
    for first, second in used:
        command = ors.commands.get(first)
        assert command is not None, first
        if isinstance(command, click.Group) and second and command.commands:
            assert second in command.commands, f"ors {first} {second}"
