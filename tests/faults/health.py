"""`GET /healthz` polled from a thread of its own while a fault lasts, timing every answer.

Blocking sockets in a dedicated thread, so that the callers' event loop never delays the
measurement: what is timed is the server (and the loopback), not the test's scheduling.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

EVERY_SECONDS = 0.1
GIVE_UP_SECONDS = 10.0


@dataclass(frozen=True)
class Sample:
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: no answer


@dataclass
class HealthProbe:
    port: int
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(GIVE_UP_SECONDS + 5)

    def _poll(self) -> None:
        while not self._stop.wait(EVERY_SECONDS):
            self.samples.append(self._once())

    def _once(self) -> Sample:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GIVE_UP_SECONDS)
        started = time.monotonic()
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        return Sample(started, time.monotonic() - started, status)
