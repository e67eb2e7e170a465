"""The floor for a USSD hop: bare Flask doing one Redis GET and one SET, under the same gunicorn.

Run by the harness as `python -m bench.baseline_app --port P --workers N --threads T`, with the
same gunicorn settings as `ors serve` (sync or gthread workers, no preload, the same access
log to stdout), so the ratio USSD / baseline is the cost of the menus, the booking core and
PostgreSQL over the unavoidable parts (HTTP, WSGI, Flask, one Redis round trip each way).
"""

from __future__ import annotations

import argparse
import os

from flask import Flask, Response, request
from redis import Redis

app = Flask(__name__)
_redis: Redis | None = None


def redis() -> Redis:
    global _redis
    if _redis is None:  # created lazily, i.e. in the worker after gunicorn has forked
        _redis = Redis.from_url(os.environ["ORS_REDIS_URL"], socket_timeout=2)
    return _redis


@app.post("/hooks/at/ussd")
def ussd() -> Response:
    form = request.form
    key = "bench:baseline:" + form.get("sessionId", "")
    before = redis().get(key)
    text = form.get("text", "")
    redis().set(key, text, ex=300)
    body = "CON Hospital appointments\n1 Book\n2 My appointments\n3 Language\n4 Help"
    if before is not None:
        body += "\n0 Back"
    return Response(body, status=200, mimetype="text/plain")


@app.get("/readyz")
def readyz() -> Response:
    redis().ping()
    return Response("ready", mimetype="text/plain")


def main() -> None:
    from gunicorn.app.base import BaseApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    class Gunicorn(BaseApplication):
        # The settings of gateway/cli/serve.py's `ors serve`, kept identical on purpose.
        def load_config(self) -> None:
            self.cfg.set("bind", f"127.0.0.1:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("preload_app", False)
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("accesslog", "-")

        def load(self) -> Flask:
            return app

    Gunicorn().run()


if __name__ == "__main__":
    main()
