"""Load generator: one process, asyncio and a minimal HTTP/1.1 client, speaking the providers' formats.

Run by the harness as `python -m bench.loadgen SPEC.json OUT.json`, so the load never shares
a process (or a GIL) with the servers it measures. Kinds of load:

- `walk`: simulated callers, each walking whole USSD sessions as Africa's Talking posts them
  (form `sessionId, serviceCode, phoneNumber, networkCode, text` with the cumulative `text`),
  reading every screen to choose a valid option, until booked; then a new session and phone.
- `baseline`: the same form, posted again and again to the bare Flask + Redis endpoint.
- `flash`: N sessions walked to the slot list first, then all of them pick the one slot at
  once from C concurrent callers; the winners confirm.
- `kiosk`: JSON check-ins (`{"code": …}`, Bearer kiosk key) from C concurrent kiosks.

Every request is recorded as [start, end, HTTP status, verdict] (seconds from the start of the
process's clock) so the harness can cut a measuring window and count errors.

The client is a few lines of asyncio streams, one connection per request (`Connection:
close`, which is what gunicorn's sync workers do anyway): measured here at ~180 us of CPU per
request against ~480 us for aiohttp, and every microsecond the client spends is taken from the
two cores the servers run on.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.screens import Screen, parse

SERVICE_CODE = "*384*123#"
NETWORK = "63902"
MAX_HOPS = 20

# Verdicts of one USSD hop / kiosk request.
OK, MALFORMED, TOO_LONG, APOLOGY, HTTP_ERROR, UNEXPECTED = (
    "ok",
    "malformed",
    "too_long",
    "apology",
    "http_error",
    "unexpected",
)


@dataclass
class Recorder:
    started: float = field(default_factory=time.perf_counter)
    requests: list[list[Any]] = field(default_factory=list)
    events: list[list[Any]] = field(default_factory=list)  # [t, what]
    samples: list[str] = field(default_factory=list)  # first bodies of each bad verdict

    def now(self) -> float:
        return time.perf_counter() - self.started

    def add(self, t0: float, status: int, verdict: str, body: str = "") -> None:
        self.requests.append([round(t0, 5), round(self.now(), 5), status, verdict])
        if verdict != OK and len(self.samples) < 20:
            self.samples.append(f"{verdict} {status}: {body[:200]!r}")

    def event(self, what: str) -> None:
        self.events.append([round(self.now(), 5), what])


class Http:
    """POST to one URL over a fresh connection per request; (status, body) or (0, error)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.head = f"POST {target} HTTP/1.1\r\nHost: {self.host}\r\n{extra}Connection: close\r\n"

    async def post(self, body: bytes, content_type: str) -> tuple[int, str]:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            return 0, repr(exc)
        try:
            writer.write(
                f"{self.head}Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            data = await asyncio.wait_for(reader.read(), 30)
        except (OSError, TimeoutError) as exc:
            return 0, repr(exc)
        finally:
            writer.close()
        head, _, payload = data.partition(b"\r\n\r\n")
        try:
            status = int(head[9:12])
        except ValueError:
            return 0, f"unreadable response {data[:80]!r}"
        if b"transfer-encoding: chunked" in head.lower():
            payload = _unchunk(payload)
        return status, payload.decode("utf-8", "replace")


def _unchunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


class Ussd:
    """Posts one caller's hops to the USSD hook and judges each answer."""

    def __init__(self, url: str, rec: Recorder):
        self.http, self.rec = Http(url), rec

    async def hop(self, session_id: str, phone: str, inputs: list[str]) -> Screen | None:
        form = {
            "sessionId": session_id,
            "serviceCode": SERVICE_CODE,
            "phoneNumber": phone,
            "networkCode": NETWORK,
            "text": "*".join(inputs),
        }
        t0 = self.rec.now()
        status, body = await self.http.post(
            urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        if status != 200:
            self.rec.add(t0, status, HTTP_ERROR, body)
            return None
        screen = parse(body)
        verdict = OK
        if not screen.prefix_ok:
            verdict = MALFORMED
        elif screen.is_apology:
            verdict = APOLOGY
        elif screen.too_long:
            verdict = TOO_LONG
        elif screen.has_line("Invalid choice"):
            verdict = UNEXPECTED  # the walker typed something the screen did not offer
        self.rec.add(t0, status, verdict, body)
        return screen if verdict in (OK, TOO_LONG) else None


def choose(screen: Screen, city_prefix: str, rng: random.Random) -> str | None:
    """The option a caller who wants to book would type on this screen."""
    confirm = screen.option("Confirm")
    if confirm:
        return confirm
    book = screen.option("Book")
    if book and screen.has_line("Hospital appointments"):
        return book
    if screen.has_line("Choose city"):
        cities = screen.options_starting(city_prefix)
        return rng.choice(cities) if cities else None
    if not screen.options:
        return None
    return rng.choice(screen.options)[0]


class Phones:
    """Distinct Kenyan mobile numbers (+2547…), one per session: no per-person limit bites."""

    def __init__(self, base: int):
        self.next = base

    def take(self) -> str:
        self.next += 1
        return f"+254{self.next}"


# --- walk: whole bookings -------------------------------------------------------------------


async def walk_once(ussd: Ussd, session_id: str, phone: str, city: str, rng: random.Random) -> str:
    inputs: list[str] = []
    for _ in range(MAX_HOPS):
        screen = await ussd.hop(session_id, phone, inputs)
        if screen is None:
            return "error"
        if screen.end:
            return "booked" if screen.has_line("Booked!") else "ended"
        choice = choose(screen, city, rng)
        if choice is None:
            return "stuck"
        inputs.append(choice)
    return "too_many_hops"


async def run_walk(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    deadline = spec["warmup"] + spec["duration"]
    phones = Phones(spec["phone_base"])
    outcomes: dict[str, int] = {}
    tag = spec["tag"]

    async def caller(n: int) -> None:
        rng = random.Random(f"{tag}-{n}")
        seq = 0
        while rec.now() < deadline:
            seq += 1
            outcome = await walk_once(
                ussd, f"ATUid_{tag}_{n}_{seq}", phones.take(), spec["city"], rng
            )
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            rec.event(outcome)

    ussd = Ussd(spec["url"], rec)
    await asyncio.gather(*(caller(n) for n in range(spec["concurrency"])))
    return {"outcomes": outcomes}


async def run_baseline(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    deadline = spec["warmup"] + spec["duration"]
    tag = spec["tag"]

    async def caller(n: int) -> None:
        phone = f"+254{spec['phone_base'] + n}"
        seq = 0
        while rec.now() < deadline:
            seq += 1
            await ussd.hop(f"ATUid_{tag}_{n}_{seq // 7}", phone, ["1", "2", "1"][: seq % 4])

    ussd = Ussd(spec["url"], rec)
    await asyncio.gather(*(caller(n) for n in range(spec["concurrency"])))
    return {}


# --- flash crowd ----------------------------------------------------------------------------


@dataclass
class Attempt:
    session_id: str
    phone: str
    inputs: list[str]
    slot_key: str = ""


async def prewalk(ussd: Ussd, a: Attempt, city: str, rng: random.Random) -> bool:
    """Walk a session to the slot list and remember which number picks the slot."""
    for _ in range(MAX_HOPS):
        screen = await ussd.hop(a.session_id, a.phone, a.inputs)
        if screen is None or screen.end:
            return False
        if screen.is_slot_list:
            a.slot_key = screen.options[0][0]
            return True
        choice = choose(screen, city, rng)
        if choice is None:
            return False
        a.inputs.append(choice)
    return False


async def run_flash(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    phones = Phones(spec["phone_base"])
    attempts = [
        Attempt(f"ATUid_{spec['tag']}_{n}", phones.take(), []) for n in range(spec["attempts"])
    ]
    concurrency = spec["concurrency"]
    result: dict[str, Any] = {}
    ussd = Ussd(spec["url"], rec)
    # Phase 1 (not timed as attempts): every session walks to the slot list.
    queue = deque(attempts)
    ready: list[Attempt] = []

    async def walker(n: int) -> None:
        rng = random.Random(n)
        while queue:
            a = queue.popleft()
            if await prewalk(ussd, a, spec["city"], rng):
                ready.append(a)

    t_walk = rec.now()
    await asyncio.gather(*(walker(n) for n in range(concurrency)))
    result["prewalk_seconds"] = rec.now() - t_walk
    result["prewalk_ready"] = len(ready)
    result["attempts_start_index"] = len(rec.requests)

    # Phase 2: the release. All callers pick the slot at once; winners confirm.
    outcomes: dict[str, int] = {}
    attempt_log: list[list[Any]] = []
    pending = deque(ready)
    gate = asyncio.Event()

    async def grabber() -> None:
        await gate.wait()
        while pending:
            a = pending.popleft()
            t0 = rec.now()
            outcome = await grab(ussd, a, rec)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            attempt_log.append([round(t0, 5), round(rec.now(), 5), outcome])

    tasks = [asyncio.create_task(grabber()) for _ in range(concurrency)]
    await asyncio.sleep(0.2)  # every grabber is waiting at the gate
    result["released_at"] = rec.now()
    gate.set()
    await asyncio.gather(*tasks)
    result["outcomes"] = outcomes
    result["attempts"] = attempt_log
    return result


async def grab(ussd: Ussd, a: Attempt, rec: Recorder) -> str:
    a.inputs.append(a.slot_key)
    screen = await ussd.hop(a.session_id, a.phone, a.inputs)
    if screen is None:
        return "error"
    confirm = screen.option("Confirm")
    if confirm is None:
        return "refused"  # the place went to someone else: the screen says so and offers more
    rec.event("held")
    a.inputs.append(confirm)
    screen = await ussd.hop(a.session_id, a.phone, a.inputs)
    if screen is None:
        return "error"
    if screen.end and screen.has_line("Booked!"):
        rec.event("booked")
        return "booked"
    return "held_not_booked"


# --- kiosk ----------------------------------------------------------------------------------

KIOSK_OK = {"checked_in", "already_checked_in"}


async def run_kiosk(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    codes = deque(spec["codes"])
    statuses: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {spec['key']}"}

    http = Http(spec["url"], headers)

    async def kiosk() -> None:
        while codes:
            code = codes.popleft()
            t0 = rec.now()
            status, raw = await http.post(json.dumps({"code": code}).encode(), "application/json")
            if status == 0:
                rec.add(t0, 0, HTTP_ERROR, raw)
                continue
            try:
                body = json.loads(raw)
                answer = body["status"]
                assert isinstance(body["message"], str) and "ticket" in body
            except (ValueError, KeyError, TypeError, AssertionError):
                rec.add(t0, status, MALFORMED, raw)
                continue
            statuses[answer] = statuses.get(answer, 0) + 1
            ok = OK if answer in KIOSK_OK else UNEXPECTED
            rec.add(t0, status, HTTP_ERROR if status >= 500 else ok, raw)

    await asyncio.gather(*(kiosk() for _ in range(spec["concurrency"])))
    return {"statuses": statuses}


RUNNERS = {"walk": run_walk, "baseline": run_baseline, "flash": run_flash, "kiosk": run_kiosk}


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    rec = Recorder()
    extra = asyncio.run(RUNNERS[spec["kind"]](spec, rec))
    with open(out_path, "w") as f:
        json.dump(
            {
                "requests": rec.requests,
                "events": rec.events,
                "samples": rec.samples,
                "wall_started": time.time() - rec.now(),
                **extra,
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
