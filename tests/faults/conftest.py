"""Fixtures of the fault-injection suite: `make test-faults` runs it, `make test` never does.

One session-wide run: the stack is started once (tens of seconds) and the cases follow each
other on it, in the order of test_faults.py; the SMS reckoning waits for the end of the run.
SIGTERM is turned into KeyboardInterrupt for the session, so a CI job that is cancelled still
stops every process this suite started.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# bench/ (reused here: the stack, the screen reader, the load client) is a folder of the
# repository, not an installed package; pytest's importlib mode does not put the root on the
# path, so this suite does.
REPO = str(Path(__file__).resolve().parents[2])
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.faults import report  # noqa: E402
from tests.faults.callers import Crowd, Ledger  # noqa: E402
from tests.faults.rig import running_rig  # noqa: E402
from tests.faults.scenario import FaultsRun  # noqa: E402
from tests.faults.servers import ServiceMissing, pg_bin  # noqa: E402

RUN = pytest.StashKey[FaultsRun]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: the fault-injection suite (make test-faults)")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """The table after every run of the suite, passed or failed."""
    run = config.stash.get(RUN, None)
    if run is not None and run.runs:
        terminalreporter.write_sep("=", "faults")
        terminalreporter.write_line(report.render(run))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def faults_run(request: pytest.FixtureRequest) -> Iterator[FaultsRun]:
    _require_binaries()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running_rig(keep=os.environ.get("ORS_FAULTS_KEEP") == "1") as rig:
            ledger = Ledger()
            crowd = Crowd(rig.ussd_url, ledger)
            try:
                run = FaultsRun(rig, crowd, ledger)
                request.config.stash[RUN] = run
                yield run
            finally:
                crowd.close()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _require_binaries() -> None:
    """A missing server binary fails under CI=true (like tests/conftest.py) and skips locally."""
    try:
        pg_bin()
        if not (shutil.which("runuser") or os.geteuid() != 0):
            raise ServiceMissing("runuser (to run initdb as the postgres user)")
        if not shutil.which("redis-server"):
            raise ServiceMissing("redis-server is not installed")
    except ServiceMissing as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the faults suite needs {missing}")
        pytest.skip(f"the faults suite needs {missing}")
