"""The production stack on loopback, over data stores the faults may stop and hang.

PostgreSQL and Redis of the suite's own (servers.py), each behind a proxy (proxy.py) through
which every `ors` process connects; the fake Africa's Talking (provider.py) that `ors worker`
sends to; then, as README "Production" deploys it: `ors keys new`, `ors migrate`, `ors catalog
load`, `ors slots generate`, `ors serve` with its default workers x threads, and two `ors
worker` processes (so one can be killed while the other goes on). bench/stack.py supplies the
environment (generated tokens and keys) and the process handling (own process groups).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from bench.catalogue import write_config
from bench.stack import VENV_BIN, Proc, Stack, free_port, wait_http, wait_workers
from gateway.cli.serve import serve as serve_command
from gateway.settings import Settings, load_settings
from tests.faults.catalogue import SLOT_DAYS, write_catalogue
from tests.faults.provider import FakeAt
from tests.faults.proxy import ProxyProcess
from tests.faults.servers import Postgres, RedisServer, wait_until

DATABASE = "ors"
WORKERS = 2


def serve_defaults() -> tuple[int, int]:
    """`ors serve`'s default --workers and --threads, read from the command itself."""
    defaults = {p.name: p.default for p in serve_command.params}
    workers, threads = defaults["workers"], defaults["threads"]
    assert isinstance(workers, int) and isinstance(threads, int)
    return workers, threads


@dataclass
class Rig:
    workdir: Path
    pg: Postgres
    redis: RedisServer
    pg_proxy: ProxyProcess
    redis_proxy: ProxyProcess
    provider: FakeAt
    stack: Stack
    web_port: int = 0
    web: Proc | None = None
    workers: list[Proc] = field(default_factory=list)
    shape: tuple[int, int] = (0, 0)  # gunicorn workers x threads

    @property
    def settings(self) -> Settings:
        return load_settings(env=self.stack.env)

    @property
    def ussd_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/hooks/at/ussd?token={self.stack.token}"

    @property
    def database_url(self) -> str:
        """The database itself, not through the proxy: the checks read it after a fault."""
        return self.pg.url(DATABASE)

    # --- processes ----------------------------------------------------------------------------

    def start_web(self) -> None:
        self.web_port = free_port()
        argv = [str(VENV_BIN / "ors"), "serve", "--host", "127.0.0.1", "--port", str(self.web_port)]
        self.web = self.stack.start("ors-serve", argv)
        wait_http(f"http://127.0.0.1:{self.web_port}/readyz", timeout=60, proc=self.web)
        self.shape = serve_defaults()
        wait_workers(self.web, self.shape[0])

    def start_worker(self, name: str) -> Proc:
        proc = self.stack.worker(name, {"ORS_AT_BASE_URL": self.provider.base_url})
        self.workers.append(proc)
        wait_until(lambda: proc.pid in self.rq_workers(), 60, f"{name} registered with RQ")
        return proc

    def kill_worker(self, proc: Proc) -> None:
        """SIGKILL the worker's whole process group (it and its RQ scheduler), as a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.popen.wait(10)
        self.workers.remove(proc)
        self.stack.stop(proc)

    def rq_workers(self) -> dict[int, str]:
        """pid -> RQ state ('busy', 'idle', …) of our live worker processes."""
        client = Redis(port=self.redis.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            found = {w.pid: w.get_state() for w in Worker.all(connection=client) if w.pid}
        except RedisError:
            return {}
        finally:
            client.close()
        ours = {p.pid for p in self.workers if p.popen.poll() is None}
        return {pid: state for pid, state in found.items() if pid in ours}

    def dead_workers(self) -> list[str]:
        return [
            f"{p.name} (exit {p.popen.returncode})"
            for p in self.workers
            if p.popen.poll() is not None
        ]


@contextlib.contextmanager
def running_rig(keep: bool = False) -> Iterator[Rig]:
    """Everything up, set up and serving; everything stopped by pid on the way out, in
    reverse order, even when a step failed (`keep`: leave the logs in the work directory)."""
    with contextlib.ExitStack() as on_exit:
        workdir = Path(tempfile.mkdtemp(prefix="ors-faults-"))
        if not keep:
            on_exit.callback(shutil.rmtree, workdir, ignore_errors=True)
        pg = Postgres()
        if not keep:
            on_exit.callback(pg.remove)
        on_exit.callback(pg.shut_down)
        pg.init()
        pg.start()
        pg.create_database(DATABASE)
        redis = RedisServer(workdir)
        on_exit.callback(redis.stop)
        redis.start()
        pg_proxy = ProxyProcess(pg.port, workdir / "pg-proxy.log")
        on_exit.callback(pg_proxy.stop)
        redis_proxy = ProxyProcess(redis.port, workdir / "redis-proxy.log")
        on_exit.callback(redis_proxy.stop)
        stack = Stack(workdir)
        provider = FakeAt(api_key=stack.env["ORS_AT_API_KEY"])
        provider.start()
        on_exit.callback(provider.close)
        on_exit.callback(stack.stop_all)  # first out: the ors processes, before their stores
        stack.env |= {
            "ORS_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{pg_proxy.port}/{DATABASE}",
            "ORS_REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
            "ORS_AT_BASE_URL": provider.base_url,
        }
        rig = Rig(workdir, pg, redis, pg_proxy, redis_proxy, provider, stack)
        set_up(rig)
        yield rig


def set_up(rig: Rig) -> None:
    write_config(rig.workdir)  # the repository's config, africastalking as the SMS provider
    catalogue = write_catalogue(rig.workdir)
    rig.stack.ors("keys", "new", "--out", str(rig.workdir / "key.pem"))
    rig.stack.ors("migrate")
    rig.stack.ors("catalog", "load", str(catalogue))
    rig.stack.ors("slots", "generate", "--days", str(SLOT_DAYS))
    rig.start_web()
    for i in range(WORKERS):
        rig.start_worker(f"ors-worker-{i}")
