"""Simulated callers walking the USSD booking flow over HTTP, as Africa's Talking posts it.

Each caller dials with a fresh phone number, reads every screen the way a person does
(bench/screens.py), picks a valid option (bench/loadgen.py's `choose`) after a short think,
and either sees "Booked!" with a T-code, or an END (a polite apology counts as an answer), or
no answer at all. Every hop is recorded with its latency; the T-code a caller saw is kept by
phone so the checks can hold the database and the fake provider against it.

The callers run on an asyncio loop in a thread of their own; the test thread starts and stops
them around a fault. Phones are never printed: hops carry a session ordinal instead.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.loadgen import NETWORK, SERVICE_CODE, Http, choose
from bench.screens import Screen, parse

CITY_PREFIX = "Fault"  # the catalogue's one city (tests/faults/catalogue.py)
THINK_SECONDS = (0.1, 0.3)  # a caller's pause before answering a screen
REDIAL_SECONDS = (0.3, 1.0)  # … and before dialling again after a session ended
GIVE_UP_SECONDS = 15.0  # Africa's Talking drops a hop that has not answered by then
MAX_HOPS = 20
TCODE = re.compile(r"T-code: (\d{3}) (\d{3}) (\d{4})")
FIRST_PHONE = 720_000_000  # +254720000001…: distinct Kenyan mobiles, one per session

CON, END, APOLOGY, BOOKED, MALFORMED, HTTP_ERROR, NO_ANSWER = (
    "con",
    "end",
    "apology",
    "booked",
    "malformed",
    "http_error",
    "no_answer",
)
ANSWERS = (CON, END, APOLOGY, BOOKED)


@dataclass(frozen=True)
class Hop:
    case: str
    session: int  # ordinal of the session in the run (never the phone)
    started: float  # time.monotonic()
    seconds: float
    status: int  # HTTP status; 0 when no answer came
    verdict: str


@dataclass
class Ledger:
    """What every caller of the run saw, by phone: the truth the checks hold the system to."""

    hops: list[Hop] = field(default_factory=list)
    case_of: dict[str, str] = field(default_factory=dict)  # phone -> case that dialled it
    booked: dict[str, str] = field(default_factory=dict)  # phone -> T-code seen on "Booked!"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers = itertools.count(FIRST_PHONE + 1)

    def new_phone(self, case: str) -> tuple[int, str]:
        with self._lock:
            number = next(self._numbers)
            phone = f"+254{number}"
            self.case_of[phone] = case
            return number - FIRST_PHONE, phone

    def add(self, hop: Hop, phone: str, tcode: str | None) -> None:
        with self._lock:
            self.hops.append(hop)
            if tcode is not None:
                self.booked[phone] = tcode

    def hops_of(self, case: str) -> list[Hop]:
        with self._lock:
            return [h for h in self.hops if h.case == case]

    def booked_in(self, case: str) -> dict[str, str]:
        with self._lock:
            return {p: t for p, t in self.booked.items() if self.case_of[p] == case}


class Crowd:
    """Callers on a loop thread: `start` a crowd for a case, `stop` it, `book_once` to probe."""

    def __init__(self, ussd_url: str, ledger: Ledger, seed: int = 16):
        self.url, self.ledger = ussd_url, ledger
        self.rng = random.Random(seed)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stopping = threading.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()

    def start(self, case: str, callers: int) -> None:
        self.stopping.clear()

        async def launch() -> list[asyncio.Task[None]]:
            return [asyncio.create_task(self._caller(case)) for _ in range(callers)]

        self.tasks = self._run(launch(), 5)

    def stop(self) -> None:
        """Let each caller finish the hop it is in (bounded by AT's give-up), then hang up."""
        self.stopping.set()
        if not self.tasks:
            return

        async def drain(tasks: list[asyncio.Task[None]]) -> None:
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(drain(self.tasks), GIVE_UP_SECONDS + 10)
        self.tasks = []

    def book_once(self, case: str, limit: float) -> float | None:
        """Walk fresh sessions, without pauses, until one is booked: its seconds, or None."""

        async def probe() -> float | None:
            started = time.monotonic()
            while time.monotonic() - started < limit:
                if await self._walk(case, think=False):
                    return time.monotonic() - started
                await asyncio.sleep(0.05)
            return None

        result: float | None = self._run(probe(), limit + GIVE_UP_SECONDS + 10)
        return result

    # --- on the loop thread -------------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _caller(self, case: str) -> None:
        while not self.stopping.is_set():
            await self._walk(case, think=True)
            await asyncio.sleep(self.rng.uniform(*REDIAL_SECONDS))

    async def _walk(self, case: str, think: bool) -> bool:
        """One session with a new phone; True if it ended on "Booked!"."""
        session, phone = self.ledger.new_phone(case)
        session_id = f"ATUid_{uuid.uuid4().hex}"
        inputs: list[str] = []
        for _ in range(MAX_HOPS):
            if think and self.stopping.is_set():
                return False  # the caller hangs up
            screen = await self._hop(case, session, session_id, phone, inputs)
            if screen is None or screen.end:
                return screen is not None and screen.has_line("Booked!")
            choice = choose(screen, CITY_PREFIX, self.rng)
            if choice is None:
                return False
            inputs.append(choice)
            if think:
                await asyncio.sleep(self.rng.uniform(*THINK_SECONDS))
        return False

    async def _hop(
        self, case: str, session: int, session_id: str, phone: str, inputs: list[str]
    ) -> Screen | None:
        form = {
            "sessionId": session_id,
            "serviceCode": SERVICE_CODE,
            "phoneNumber": phone,
            "networkCode": NETWORK,
            "text": "*".join(inputs),
        }
        started = time.monotonic()
        try:
            status, body = await asyncio.wait_for(
                Http(self.url).post(urlencode(form).encode(), "application/x-www-form-urlencoded"),
                GIVE_UP_SECONDS,
            )
        except TimeoutError:
            status, body = 0, ""
        seconds = time.monotonic() - started
        screen = parse(body) if status == 200 else None
        verdict, tcode = judge(status, screen, body)
        self.ledger.add(Hop(case, session, started, seconds, status, verdict), phone, tcode)
        return screen if verdict in (CON, BOOKED, END) else None


def judge(status: int, screen: Screen | None, body: str) -> tuple[str, str | None]:
    """The verdict on one answer, and the T-code when it is the "Booked!" screen."""
    if status == 0:
        return NO_ANSWER, None
    if status != 200 or screen is None:
        return HTTP_ERROR, None
    if not screen.prefix_ok:
        return MALFORMED, None
    if screen.end and screen.has_line("Booked!"):
        found = TCODE.search(body)
        return BOOKED, "".join(found.groups()) if found else ""  # "": a check then fails
    if screen.is_apology:
        return APOLOGY, None
    return (END if screen.end else CON), None
