"""What each pytest-xdist worker needs of its own, and what it hands back to the controller.

`make test` runs the suite in two worker processes. Each gets its own PostgreSQL database
(named after the process) and its own temporary folder from pytest-xdist; the Redis database
is derived here from ORS_TEST_REDIS_URL, so that no worker flushes another's keys. Each worker
audits its own log lines (tests/log_audit.py) and sends the leaks it found to the controller,
which reports them for the whole run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.log_audit import Leak, LogAudit

BENCH_REDIS_DB = 13  # `make bench` flushes it
AUDIT_KEY = "ors_log_audit"


def worker_index(config: pytest.Config) -> int | None:
    """The number of this xdist worker (gw0 -> 0), or None in the controller or a plain run."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    return int(str(workerinput["workerid"]).removeprefix("gw"))


def is_controller(config: pytest.Config) -> bool:
    """Whether this process only hands tests to xdist workers (and runs none itself)."""
    return config.pluginmanager.has_plugin("dsession")


def worker_redis_url(url: str, index: int) -> str:
    """The Redis URL of worker `index`: its db counts down from the URL's (gw0 keeps it).

    Database 13 is the benchmark's and database 0 is left to whatever else shares the server.
    """
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    free = [db for db in range(base, 0, -1) if db != BENCH_REDIS_DB]
    if index >= len(free):
        raise pytest.UsageError(
            f"ORS_TEST_REDIS_URL {url!r} leaves no Redis database for worker gw{index}: "
            "give a higher database number or fewer workers"
        )
    return urlunsplit(parts._replace(path=f"/{free[index]}"))


def hand_over(audit: LogAudit, config: pytest.Config) -> None:
    """Put this worker's audit where the controller reads it when the worker is done."""
    workeroutput: dict[str, Any] = getattr(config, "workeroutput")  # noqa: B009
    workeroutput[AUDIT_KEY] = {
        "lines": audit.lines,
        "leaks": [(leak.where, leak.kind, leak.line) for leak in audit.leaks],
    }


def take_over(audit: LogAudit, workeroutput: dict[str, Any]) -> None:
    """Add a finished worker's audit to the controller's."""
    found = workeroutput.get(AUDIT_KEY)
    if found is None:  # the worker crashed before its session finished
        return
    audit.lines += found["lines"]
    audit.leaks.extend(Leak(*leak) for leak in found["leaks"])
