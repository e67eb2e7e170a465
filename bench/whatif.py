"""Measure proposed fixes before anyone writes them: `ors serve` with patches in each worker.

    python -m bench.whatif --port P --workers N --threads T --patches nopreping,autocommit

The same gunicorn settings as `ors serve` and the same app (create_app on the production
settings); the named patches change only what each proposal in bench/results.md changes:

- nopreping   gateway/db.py make_engine: pool_pre_ping=False (no extra ping per checkout)
- autocommit  gateway/db.py session_factories: the reader in AUTOCOMMIT on PostgreSQL (no
              BEGIN/ROLLBACK round trips around read-only queries)
- onekey      gateway/conversations.py: replay answer kept in the session record instead of
              its own key (2 Redis commands per hop instead of 4; approximated here by
              dropping the replay cache's own GET and SET)
- catcache    gateway/booking: cities, hospitals, departments and a department's hospital
              cached in the process for 30 s (the catalogue changes by `ors catalog load`)

Nothing here is imported by the gateway; it exists to put numbers on proposals.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

CACHE_SECONDS = 30.0


def nopreping() -> None:
    import gateway.db
    import gateway.runtime

    original = gateway.db.make_engine

    def make_engine(url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("pool_pre_ping", False)
        return original(url, **kwargs)

    gateway.db.make_engine = make_engine
    gateway.runtime.make_engine = make_engine  # type: ignore[attr-defined]


def autocommit() -> None:
    from sqlalchemy.orm import sessionmaker

    import gateway.db
    import gateway.runtime

    original = gateway.db.session_factories

    def session_factories(engine: Any) -> Any:
        writer, reader = original(engine)
        if engine.dialect.name == "postgresql":
            reader_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            reader = sessionmaker(reader_engine, expire_on_commit=False)
        return writer, reader

    gateway.db.session_factories = session_factories
    gateway.runtime.session_factories = session_factories  # type: ignore[attr-defined]


class _NoReplay:
    def get(self, session_id: str, text: str) -> str | None:
        return None

    def put(self, session_id: str, text: str, body: str) -> None:
        pass


def onekey(app: Any) -> None:
    app.extensions["ors"].ussd.replays = _NoReplay()


def _ttl_cached(fn: Callable[..., Any]) -> Callable[..., Any]:
    memo: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def cached(*args: Any) -> Any:
        key = args[1:]  # (self or session, id): the id is what matters
        hit = memo.get(key)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        value = fn(*args)
        memo[key] = (now + CACHE_SECONDS, value)
        return value

    return cached


def catcache() -> None:
    from gateway.booking import readside
    from gateway.booking.service import BookingService

    for name in ("cities", "hospitals", "departments"):
        setattr(BookingService, name, _ttl_cached(getattr(BookingService, name)))
    original = readside._hospital_of

    def hospital_row(session: Any, department_id: int) -> Any:
        h = original(session, department_id)
        return SimpleNamespace(code=h.code, timezone=h.timezone)

    readside._hospital_of = _ttl_cached(hospital_row)


BEFORE_APP: dict[str, Callable[[], None]] = {
    "nopreping": nopreping,
    "autocommit": autocommit,
    "catcache": catcache,
}
AFTER_APP: dict[str, Callable[[Any], None]] = {"onekey": onekey}
PATCHES = (*BEFORE_APP, *AFTER_APP)


def main() -> None:
    from gunicorn.app.base import BaseApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--patches", default="")
    args = parser.parse_args()
    patches = [p for p in args.patches.split(",") if p]
    unknown = set(patches) - set(PATCHES)
    if unknown:
        parser.error(f"unknown patches {sorted(unknown)}; known: {', '.join(PATCHES)}")

    from gateway.settings import check_production, load_settings

    settings = load_settings()
    check_production(settings)

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        # The settings of gateway/cli/serve.py's `ors serve`, kept identical on purpose.
        def load_config(self) -> None:
            self.cfg.set("bind", f"127.0.0.1:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("preload_app", False)
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            for name in patches:
                if name in BEFORE_APP:
                    BEFORE_APP[name]()
            from gateway.app import create_app

            app = create_app(settings)
            for name in patches:
                if name in AFTER_APP:
                    AFTER_APP[name](app)
            return app

    Gunicorn().run()


if __name__ == "__main__":
    main()
