"""PostgreSQL and Redis of the suite's own, on free loopback ports, in temporary directories.

They are separate from the shared services (.ci/run's PostgreSQL on 5432 and Redis on 6379)
so that the faults can stop and restart them. Every process is ours and is stopped by pid:
the postmaster that `pg_ctl` starts leads a session of its own (pg_ctl calls setsid), and
redis-server is started in a process group of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from redis import Redis
from redis.exceptions import RedisError

from bench.stack import free_port

PG_ROOT = Path("/usr/lib/postgresql")
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # A test cluster: no flush to disk (the machine does not crash, only PostgreSQL does),
    # but a commit is acknowledged only once its WAL is written: with synchronous_commit off
    # the "PostgreSQL stopped" case (an immediate stop, a crash) lost a booking whose caller
    # had already seen "Booked!", which no real server with default settings does.
    "fsync": "off",
    "synchronous_commit": "on",
    "full_page_writes": "off",
    "max_connections": "300",  # 2 web + 2 worker processes, two engines each, plus the CLI
    "shared_buffers": "64MB",
}


class ServiceMissing(RuntimeError):
    """A binary the suite needs is not installed."""


def pg_bin() -> Path:
    """The newest PostgreSQL server binaries (Debian's layout); ORS_FAULTS_PG_BIN overrides."""
    if given := os.environ.get("ORS_FAULTS_PG_BIN"):
        return Path(given)
    found = sorted(PG_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ServiceMissing(f"PostgreSQL server binaries: no {PG_ROOT}/*/bin/initdb")
    return found[-1].parent


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def wait_until(check: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `check()` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise TimeoutError(f"{what} not after {timeout:.0f} s")


class Postgres:
    """A throw-away cluster: `initdb` once, then `pg_ctl start/stop` as the faults need."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        # Not under pytest's tmp dir: /tmp/pytest-of-root is private to root and the
        # postgres user must be able to reach its data directory.
        self.root = Path(tempfile.mkdtemp(prefix="ors-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.pid = 0
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            *("-D", str(self.data), "-A", "trust", "-U", "postgres"),
            *("-E", "UTF8", "--locale", "C", "--no-sync"),
        )

    def start(self) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
        options += f" -p {self.port} -c unix_socket_directories={self.root}"
        self._run(
            *self._ctl("start", "-w", "-t", "60", "-l", str(self.log)), "-o", options, timeout=90
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m MODE`: immediate is a crash (no shutdown checkpoint, clients cut)."""
        self._run(*self._ctl("stop", "-w", "-t", "60", "-m", mode), timeout=90)
        self.pid = 0

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def shut_down(self) -> None:
        """At the end: a fast stop if it runs, and SIGKILL if that did not do it."""
        if self.pid:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("fast")
        self.kill()

    def kill(self) -> None:
        """Last resort at teardown: SIGKILL the postmaster's session if it still runs."""
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            self.pid = self.pid or int(pid_file.read_text().split()[0])
        if self.pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
        self.pid = 0

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, *args: str) -> list[str]:
        return [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]

    def _run(self, *argv: str, timeout: float = 60) -> None:
        done = subprocess.run(
            as_postgres(list(argv)), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(argv[0]).name} {argv[-1]} failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}\n{log}"
            )


class RedisServer:
    """redis-server without persistence: a restart loses every key, as such a Redis does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None
        if not shutil.which("redis-server"):
            raise ServiceMissing("redis-server is not installed")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        with open(self.root / "redis.log", "ab") as out:
            self.popen = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self.answers, 15, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        client = Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is None or popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(5)
