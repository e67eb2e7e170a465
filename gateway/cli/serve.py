"""`ors demo`, `ors serve` and `ors worker`."""

from __future__ import annotations

import math
import os
import signal
import tempfile
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from gateway.cli import context
from gateway.settings import check_production

if TYPE_CHECKING:
    from flask import Flask


def register(group: click.Group) -> None:
    group.add_command(demo)
    group.add_command(serve)
    group.add_command(worker)


@click.command(help="Run the embedded demo: SQLite, demo data, console SMS, one demo kiosk.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="0 picks a free port; `ors simulate` finds it either way.",
)
def demo(port: int) -> None:
    from werkzeug.serving import make_server

    from gateway.app import create_app
    from gateway.cli import demo_url
    from gateway.demo import demo_desk_password, prepare, start_background

    # Bind before building the app, so "ready" (logged by create_app) means the port answers,
    # and the URL written for the simulators is the port actually bound.
    server = make_server("127.0.0.1", port, _not_ready, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    settings = context.settings().with_overrides(
        database_url="", redis_url="", public_base_url=base
    )
    stop = threading.Event()
    # `kill` (SIGTERM) ends the demo like Ctrl+C: through `finally`, which closes the port and
    # forgets the address, also when preparing the data fails.
    signal.signal(signal.SIGTERM, _exit)
    try:
        rt = context.runtime(settings)
        kiosk_key = prepare(rt)
        desk_password = demo_desk_password(rt)
        server.app = create_app(runtime=rt)
        start_background(rt, stop)
        demo_url.remember(settings, base)
        token = settings.secrets.at_webhook_token
        _print_demo(base, token, kiosk_key, desk_password, settings.data_dir)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        demo_url.forget(settings, base)
        stop.set()
        server.server_close()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _not_ready(environ: object, start_response: Callable[..., object]) -> list[bytes]:
    """What the bound port answers while the demo data is prepared (seconds, on a first start)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"ORS Gateway demo is starting\n"]


def _print_demo(
    base: str, token: str, kiosk_key: str, desk_password: str, data_dir: object
) -> None:
    from gateway.demo import DEMO_DESK_EMAIL, DEMO_FAMILY_PHONE, DEMO_KIOSK_HOSPITAL

    q = f"?token={token}" if token else ""
    at = DEMO_KIOSK_HOSPITAL
    click.echo(f"""
ORS Gateway demo is running (embedded mode, data in {data_dir})

  Gateway          {base}/
  Health           {base}/healthz   {base}/readyz   {base}/metrics
  Kiosk page       {base}/kiosk/
  Kiosk key        {kiosk_key}
  Staff console    {base}/console/
  Desk clerk       {DEMO_DESK_EMAIL}, password {desk_password} (desk at {at})

Callback URLs for providers (use your public https address in production):
  Africa's Talking USSD         {base}/hooks/at/ussd{q}
  Africa's Talking USSD events  {base}/hooks/at/ussd/events{q}
  Africa's Talking voice        {base}/hooks/at/voice{q}
  Africa's Talking SMS          {base}/hooks/at/sms{q}
  Africa's Talking DLR          {base}/hooks/at/dlr{q}
  Twilio voice / status         {base}/hooks/twilio/voice   {base}/hooks/twilio/voice/status
  Twilio SMS / status           {base}/hooks/twilio/sms   {base}/hooks/twilio/status

Try it:  .venv/bin/ors simulate ussd --phone +254700000001
A family: .venv/bin/ors simulate ussd --phone {DEMO_FAMILY_PHONE}
          (the phone's holder with two children, Amina and Baraka)
An admin: .venv/bin/ors staff add --email you@example.org --name "Your Name" --role admin --hospital {at}
          (prints a one-time setup link; a second factor is enrolled at the first sign-in)
Press Ctrl+C to stop.
""")


# Threads per worker. A hop may now wait up to the hop deadline (5 s) on a sick database, and
# with one thread a worker whose hop waits answers nothing else, not even /healthz (which must
# answer within 200 ms with PostgreSQL hung). Four gthread threads leave spare ones for
# liveness and for hops that need no database (most menu screens come from the catalogue
# cache) while a few wait. A waiting thread costs a stack, not CPU; the work stays bound by
# the 2 cores and the GIL (bench/results.md was measured with 1 thread per worker). Each
# engine's pool (10 + 20 overflow) has a connection for every thread.
DEFAULT_THREADS = 4
# Seconds gunicorn lets a worker go without a heartbeat before killing it. A gthread worker's
# heartbeat comes from its main loop, not from the request threads, so a slow request never
# trips it; only a worker stuck as a whole does, and 30 s (gunicorn's default) tells that
# apart from a busy one.
WORKER_HEARTBEAT_SECONDS = 30


@click.command(help="Run the production web server (gunicorn) on PostgreSQL and Redis.")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=DEFAULT_THREADS, show_default=True)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    settings = context.settings()
    check_production(settings)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ors-metrics-"))
    # On a restart or stop, requests in flight get what a hop may take, and some to spare.
    graceful = math.ceil(2 * settings.timeouts.hop_deadline)

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", WORKER_HEARTBEAT_SECONDS)
            self.cfg.set("graceful_timeout", graceful)
            self.cfg.set("preload_app", False)  # each worker builds its own engine and Redis client
            # %(U)s is the path without the query string, so ?token= never reaches the log.
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("accesslog", "-")
            # Mask the master process's lines too; it never builds the app.
            self.cfg.set("logger_class", "gateway.gunicorn_logging.MaskingLogger")

        def load(self) -> Flask:
            from gateway.app import create_app

            return create_app(settings.with_overrides(web_threads=threads))

    Gunicorn().run()


@click.command(
    help="Run an RQ worker (with its scheduler) and the periodic sweeps: outbox relay, "
    "re-enqueue of lost message jobs, expiry of holds."
)
@click.option(
    "--queue", "queues", multiple=True, default=["messages", "default"], show_default=True
)
@click.option("--sweep-seconds", type=click.FloatRange(0.1, 60), default=2.0, show_default=True)
def worker(queues: tuple[str, ...], sweep_seconds: float) -> None:
    from gateway.messaging.worker import run_worker

    settings = context.settings()
    if not settings.redis_url:
        raise click.ClickException("ORS_REDIS_URL: the worker needs Redis (redis://host:6379/0)")
    check_production(settings)  # the worker sends the SMS: console or sandbox stop it here
    rt = context.runtime(settings)
    rt.messaging.router.check()  # a missing provider secret stops start-up, naming it
    run_worker(rt, queues, sweep_seconds)
