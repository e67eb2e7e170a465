"""The production stack on loopback: a fresh PostgreSQL database, Redis db 13, `ors` processes.

Every process is started in its own process group and stopped by group at the end (and on
Ctrl+C or any failure), so a benchmark never leaves a server running.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from redis import Redis

DB_NAME = "ors_bench"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/13"
VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: Proc | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `proc` has died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}; see {proc.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last = str(response.status)
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s ({last})")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers, RQ's forked scheduler)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(p) for p in f.read().split()]
    return found


def status_kib(pid: int, field_name: str) -> int:
    """A memory field of /proc/<pid>/status in KiB (VmRSS now, VmHWM the peak); 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after `timeout`."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers of the group (forked children)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


@dataclass
class Stack:
    """Owns the bench database, Redis db 13 and every process started for one run."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "metrics").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "ORS_CONFIG": str(self.workdir / "config.yaml"),
            "ORS_DATABASE_URL": DATABASE_URL,
            "ORS_REDIS_URL": REDIS_URL,
            "ORS_AT_WEBHOOK_TOKEN": secrets.token_urlsafe(24),
            "ORS_VOUCHER_KEY": str(self.workdir / "key.pem"),
            "ORS_PUBLIC_BASE_URL": "https://ors-bench.invalid",
            "ORS_SECRET_KEY": secrets.token_urlsafe(32),
            "ORS_ID_HASH_KEY": secrets.token_urlsafe(32),
            "ORS_AT_USERNAME": "ors-bench",  # production refuses the sandbox account
            "ORS_AT_API_KEY": "bench-fake-key",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
            "PYTHONPATH": str(REPO),
        }

    @property
    def token(self) -> str:
        return self.env["ORS_AT_WEBHOOK_TOKEN"]

    # --- data stores ----------------------------------------------------------------------------

    def reset_stores(self) -> None:
        """A fresh `ors_bench` database and an empty Redis db 13."""
        self.drop_database()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        self.flush_redis()

    def drop_database(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    @staticmethod
    def flush_redis() -> None:
        client = Redis.from_url(REDIS_URL)
        try:
            client.flushdb()
        finally:
            client.close()

    # --- commands and processes -----------------------------------------------------------------

    def ors(self, *args: str) -> str:
        """Run one `ors` command to completion; return its stdout, fail with its stderr."""
        done = subprocess.run(
            [str(VENV_BIN / "ors"), *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ors {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                argv,
                env={**self.env, **(extra_env or {})},
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def serve(self, port: int, workers: int, threads: int) -> Proc:
        argv = [str(VENV_BIN / "ors"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers), "--threads", str(threads)]
        proc = self.start(f"ors-serve-{port}", argv)
        wait_http(f"http://127.0.0.1:{port}/readyz", proc=proc)
        wait_workers(proc, workers)
        return proc

    def worker(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        """`ors worker` as deployed: RQ SimpleWorker with its scheduler, and the sweeps."""
        return self.start(name, [str(VENV_BIN / "ors"), "worker"], extra_env)

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()


def wait_workers(master: Proc, count: int, timeout: float = 30.0) -> list[int]:
    """Wait until a gunicorn master has `count` workers; return their pids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = children(master.pid)
        if len(pids) >= count:
            time.sleep(0.5)  # the last worker is still importing when it appears
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"{master.name}: fewer than {count} workers after {timeout:.0f} s")
