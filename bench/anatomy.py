"""What one request costs in round trips: SQL statements, connection checkouts, Redis commands.

Counts, not seconds, so they hold on a busy machine too. The real app (create_app, production
settings on the bench database and Redis) is driven in-process through Flask's test client:
one caller walks a whole booking hop by hop, then one kiosk check-in, a rescan and a lookup.
The SQLAlchemy engine's events count statements, pool checkouts and commits, a wrapper on
gateway.booking.sql.driver counts the hot statements run on the driver, and a wrapper on the Redis
client counts its commands.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.screens import parse
from gateway.app import create_app
from gateway.settings import load_settings


@dataclass
class Tally:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0
    commits: int = 0
    rollbacks: int = 0
    redis: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.statements.clear()
        self.checkouts = self.commits = self.rollbacks = 0
        self.redis.clear()


_MARKER = {"SELECT": "FROM", "DELETE": "FROM", "UPDATE": "UPDATE", "INSERT": "INTO"}


def _kind(statement: str) -> str:
    """`SELECT slots`, `INSERT holds`…: the verb and the table it names first."""
    words = statement.split()
    head = words[0].upper() if words else "?"
    marker = _MARKER.get(head)
    if marker is None:
        return head
    upper = [w.upper() for w in words]
    i = upper.index(marker) if marker in upper else -1
    table = words[i + 1].strip('"(') if 0 <= i < len(words) - 1 else ""
    return f"{head} {table}".strip()


def instrument(app: Any) -> Tally:
    rt = app.extensions["ors"]
    tally = Tally()

    @event.listens_for(rt.engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        tally.statements.append(_kind(statement))

    def _checkout(*args: Any) -> None:
        tally.checkouts += 1

    # The writer's pool, and the reads' own pool of autocommit connections (PostgreSQL).
    for pool in {id(p): p for p in (rt.engine.pool, rt.booking.read_engine.pool)}.values():
        event.listen(pool, "checkout", _checkout)

    @event.listens_for(rt.engine, "commit")
    def _commit(conn: Any) -> None:
        tally.commits += 1

    @event.listens_for(rt.engine, "rollback")
    def _rollback(conn: Any) -> None:
        tally.rollbacks += 1

    _count_driver_statements(tally)
    _count_commands(tally)
    return tally


# What has been wrapped for counting already: wrapping twice would count every call twice.
_patched: set[str] = set()
_driver_tally: list[Tally] = []


def _count_driver_statements(tally: Tally) -> None:
    """Count the hot statements that run on the driver, which SQLAlchemy's events never see."""
    from gateway.booking.sql.driver import DriverStatement

    _driver_tally[:] = [tally]
    if "driver" in _patched:
        return
    original = DriverStatement._on_driver

    kinds: dict[int, str] = {}

    def counted(self: Any, conn: Any, params: Any) -> Any:
        kind = kinds.get(id(self))
        if kind is None:
            kind = kinds[id(self)] = _kind(str(self.statement.compile(dialect=conn.dialect)))
        for current in _driver_tally:
            current.statements.append(kind)
        return original(self, conn, params)

    DriverStatement._on_driver = counted  # type: ignore[method-assign]  # counting, on purpose
    _patched.add("driver")


_redis_tally: list[Tally] = []


def _count_commands(tally: Tally) -> None:
    """Count the commands of every Redis client (sessions, queues, the kiosk's limit)."""
    from redis import Redis

    _redis_tally[:] = [tally]
    if "redis" in _patched:
        return
    original = Redis.execute_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        for current in _redis_tally:
            current.redis[str(args[0]).split()[0].upper()] += 1
        return original(self, *args, **kwargs)

    Redis.execute_command = counted  # type: ignore[method-assign]  # counting, on purpose
    _patched.add("redis")


@dataclass(frozen=True)
class Line:
    request: str
    statements: int
    checkouts: int
    commits: int
    redis: int
    wall_ms: float  # mean over the repeats, in-process (no HTTP server, no client)
    cpu_ms: float  # mean CPU time of this process (Python, drivers): what a worker pays
    detail: str


@dataclass
class Acc:
    """Mean wall and CPU per request of one kind, and the counts of its last instance."""

    name: str
    wall: float = 0.0
    cpu: float = 0.0
    n: int = 0
    tally: Tally | None = None

    def add(self, wall: float, cpu: float, tally: Tally) -> None:
        self.wall, self.cpu, self.n = self.wall + wall, self.cpu + cpu, self.n + 1
        self.tally = Tally(
            list(tally.statements),
            tally.checkouts,
            tally.commits,
            tally.rollbacks,
            Counter(tally.redis),
        )

    def line(self) -> Line:
        t = self.tally or Tally()
        kinds = Counter(t.statements)
        detail = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.most_common())
        redis = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in t.redis.most_common())
        n = max(self.n, 1)
        return Line(
            self.name,
            len(t.statements),
            t.checkouts,
            t.commits,
            sum(t.redis.values()),
            1000 * self.wall / n,
            1000 * self.cpu / n,
            f"SQL: {detail or '-'}; Redis: {redis or '-'}",
        )


def _timed(tally: Tally, acc: Acc, call: Any) -> Any:
    tally.reset()
    w0, c0 = time.perf_counter(), time.process_time()
    result = call()
    acc.add(time.perf_counter() - w0, time.process_time() - c0, tally)
    return result


HOPS = (
    "dial (main menu)",
    "Book",
    "city",
    "hospital",
    "department",
    "day",
    "slot (hold)",
    "confirm (book)",
)


def ussd_walk(
    env: Mapping[str, str],
    city: str,
    repeat: int = 20,
    phone_base: int = 733_000_000,
) -> list[Line]:
    """`repeat` callers walk a whole booking each, one after the other."""
    app = create_app(load_settings(env=env))
    tally = instrument(app)
    client = app.test_client()
    url = f"/hooks/at/ussd?token={env['ORS_AT_WEBHOOK_TOKEN']}"
    accs = [Acc(name) for name in HOPS]
    # Warm the caches of a fresh process (first connection, compiled statements) once.
    client.post(url, data={"sessionId": "warm", "phoneNumber": "+254733999999", "text": ""})
    for n in range(repeat):
        inputs: list[str] = []
        for acc in accs:
            form = {
                "sessionId": f"ATUid_anatomy_{n}",
                "serviceCode": "*384*123#",
                "phoneNumber": f"+254{phone_base + n}",
                "networkCode": "63902",
                "text": "*".join(inputs),
            }
            response = _timed(tally, acc, lambda form=form: client.post(url, data=form))
            screen = parse(response.get_data(as_text=True))
            if screen.end or not screen.options:
                break
            if screen.option("Confirm"):
                inputs.append(screen.option("Confirm") or "")
            elif screen.option("Book"):
                inputs.append(screen.option("Book") or "")
            elif screen.has_line("Choose city"):
                inputs.append(screen.options_starting(city)[0])
            else:
                inputs.append(screen.options[0][0])
    app.extensions["ors"].close()
    return [acc.line() for acc in accs]


def kiosk(env: Mapping[str, str], key: str, payloads: list[str]) -> list[Line]:
    """Per voucher: a lookup, the check-in, a rescan."""
    app = create_app(load_settings(env=env))
    tally = instrument(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    client.post("/kiosk/api/v1/lookup", json={"code": "0"}, headers=headers)  # warm: identify
    steps = (
        ("kiosk lookup", "/kiosk/api/v1/lookup"),
        ("kiosk check-in", "/kiosk/api/v1/checkin"),
        ("kiosk rescan", "/kiosk/api/v1/checkin"),
    )
    accs = [Acc(name) for name, _ in steps]
    for payload in payloads:
        for acc, (_, path) in zip(accs, steps, strict=True):
            _timed(
                tally,
                acc,
                lambda path=path, payload=payload: client.post(
                    path, json={"code": payload}, headers=headers
                ),
            )
    app.extensions["ors"].close()
    return [acc.line() for acc in accs]


def baseline(redis_url: str, repeat: int = 200) -> Line:
    """The floor's endpoint (bench/baseline_app.py) measured the same way."""
    import os

    os.environ["ORS_REDIS_URL"] = redis_url
    from bench.baseline_app import app

    client = app.test_client()
    acc = Acc("baseline: Flask + Redis GET/SET")
    tally = Tally()
    form = {"sessionId": "ATUid_anatomy", "phoneNumber": "+254733999999", "text": "1"}
    client.post("/hooks/at/ussd", data=form)
    for _ in range(repeat):
        _timed(tally, acc, lambda: client.post("/hooks/at/ussd", data=form))
    tally.redis.update({"GET": 1, "SET": 1})
    acc.tally = tally
    return acc.line()


def render(lines: list[Line]) -> str:
    out = [
        "| request | SQL statements | pool checkouts | commits | Redis commands "
        "| wall ms | CPU ms | what |",
        "|---|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {x.request} | {x.statements} | {x.checkouts} | {x.commits} | {x.redis} "
        f"| {x.wall_ms:.2f} | {x.cpu_ms:.2f} | {x.detail} |"
        for x in lines
    ]
    return "\n".join(out)


def main() -> None:
    """`python -m bench.anatomy [--city C] [--repeat N]`: a USSD walk's cost per hop, as a
    table; the environment names the stack (ORS_DATABASE_URL, ORS_REDIS_URL, …)."""
    import argparse
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--city", default="Bench", help="the city whose first option to pick")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--phone-base", type=int, default=734_000_000)
    args = parser.parse_args()
    print(render(ussd_walk(os.environ, args.city, args.repeat, args.phone_base)))


if __name__ == "__main__":
    main()
