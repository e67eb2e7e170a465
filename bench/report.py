"""Statistics of recorded requests, the one results table, and bench/results.md's numbers block."""

from __future__ import annotations

import os
import platform
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.md"
BEGIN, END = "<!-- bench:begin (written by bench/harness.py) -->", "<!-- bench:end -->"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Window:
    """Requests that started and ended inside [start, end) of their process's clock."""

    count: int
    seconds: float
    latencies_ms: list[float]
    verdicts: Counter[str]
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)

    @property
    def errors(self) -> int:
        return sum(n for v, n in self.verdicts.items() if v != "ok")

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500 or s == 0)


def window(outputs: list[dict[str, Any]], start: float, end: float | None) -> Window:
    lat: list[float] = []
    verdicts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    last = 0.0
    for out in outputs:
        for t0, t1, status, verdict in out["requests"]:
            if t0 < start or (end is not None and t1 > end):
                continue
            lat.append((t1 - t0) * 1000)
            verdicts[verdict] += 1
            statuses[status] += 1
            last = max(last, t1)
    seconds = (end if end is not None else last) - start
    return Window(len(lat), max(seconds, 0.0), lat, verdicts, statuses)


@dataclass(frozen=True)
class Load:
    """One measured load run, from either client (wrk or the Python load generator)."""

    client: str
    count: int
    seconds: float
    p50: float
    p90: float
    p99: float
    http: int  # non-200 answers and socket errors
    malformed: int  # not starting with CON/END, or not the JSON shape
    apology: int  # the polite END of an internal failure
    other: int  # over-long screens, invalid choices, unexpected answers
    booked: int = 0
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.http + self.malformed + self.apology + self.other

    def latency(self) -> str:
        return f"{self.p50:.1f} / {self.p90:.1f} / {self.p99:.1f} ms"

    def error_counts(self) -> str:
        return f"{self.http} / {self.malformed} / {self.apology} / {self.other} of {self.count}"

    @classmethod
    def from_window(cls, w: Window, booked: int = 0, detail: str = "") -> Load:
        v = w.verdicts
        http, malformed, apology = v["http_error"], v["malformed"], v["apology"]
        other = w.errors - http - malformed - apology
        return cls(
            "python",
            w.count,
            w.seconds,
            w.p(0.5),
            w.p(0.9),
            w.p(0.99),
            http,
            malformed,
            apology,
            other,
            booked,
            detail,
        )


@dataclass(frozen=True)
class Row:
    scenario: str
    metric: str
    result: str
    target: str = "-"
    verdict: str = "info"  # pass | miss | info


def judged(ok: bool) -> str:
    return "pass" if ok else "miss"


def table(rows: list[Row]) -> str:
    head = ("scenario", "metric", "result", "target", "pass/miss")
    cells = [head] + [(r.scenario, r.metric, r.result, r.target, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]

    def line(c: tuple[str, ...]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *(line(c) for c in cells[1:])])


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            found = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.MULTILINE)
            model = found[1].strip() if found else model
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}, Python {platform.python_version()}"


def write_results(block: str) -> None:
    """Replace the generated block of bench/results.md (the hand-written analysis stays)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = f"{BEGIN}\n{END}\n\n" + text
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    RESULTS.write_text(f"{before}{BEGIN}\n{block.rstrip()}\n{END}{after}", encoding="utf-8")
