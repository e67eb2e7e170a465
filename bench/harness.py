"""`make bench`: the production stack on loopback, measured scenario by scenario.

    .venv/bin/python -m bench.harness [--workers 2] [--threads 1] [--quick] [--write-results]

Starts a fresh PostgreSQL database (`ors_bench`), Redis db 13, `ors migrate`, a generated
catalogue, `ors slots generate`, a voucher key, then measures (targets: README, Benchmarks):

  baseline  bare Flask + one Redis GET/SET under the same gunicorn settings: the floor
  (a)       USSD hops: concurrent callers walking whole bookings
  (b)       flash crowd: thousands of attempts on one slot of 100 remote places
  (c)       kiosk check-ins over thousands of distinct vouchers, with rescans
  (d)       voucher SMS through RQ workers to a local fake Africa's Talking
  (e)       QR render per voucher (bench/qr_render.py)
  (f)       peak RSS of a web worker and of an RQ worker

and prints one table. Every process it starts is stopped at the end, the database dropped and
Redis db 13 flushed. Load goes to 127.0.0.1 only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import catalogue as cat
from bench import fixtures, qr_render
from bench.profile import Spy, summarise
from bench.report import Load, Row, judged, machine, percentile, table, window, write_results
from bench.stack import (
    REPO,
    Proc,
    Stack,
    children,
    cpu_seconds,
    free_port,
    status_kib,
    wait_http,
    wait_workers,
)

OUT = REPO / "bench" / "out"
WRK = shutil.which("wrk")

# Targets of README, Benchmarks, on the 2-core machine.
USSD_FLOOR_SHARE = 0.60
USSD_P99_MS = 50.0
FLASH_RATE = 400.0
FLASH_SOLD_OUT_S = 1.0
KIOSK_RATE = 800.0
SMS_RATE = 300.0
SMS_MIN_MESSAGES = 3000  # (d) books vouchers itself when the other scenarios left fewer
SMS_PHONE_BASE = 736_000_000
QR_MS = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    p.add_argument("--duration", type=float, default=20.0, help="seconds measured per load run")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before that")
    p.add_argument("--callers", type=int, default=32, help="concurrent USSD callers in (a)")
    p.add_argument("--load-procs", type=int, default=1, help="load generator processes")
    p.add_argument("--flash-attempts", type=int, default=5000)
    p.add_argument("--flash-callers", type=int, default=200)
    p.add_argument("--kiosk-vouchers", type=int, default=4000)
    p.add_argument("--kiosk-concurrency", type=int, default=16)
    p.add_argument("--rescan-share", type=float, default=0.1, help="scans that are rescans")
    p.add_argument("--typed-share", type=float, default=0.2, help="first scans typed as T-codes")
    p.add_argument("--sms-workers", type=int, default=2, help="RQ worker processes in (d)")
    p.add_argument("--qr-count", type=int, default=500)
    p.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if WRK else "python",
        help="load client for the baseline and (a): wrk + bench/ussd_walk.lua (default when "
        "wrk is installed: apt-get install wrk) or the Python load generator",
    )
    p.add_argument(
        "--scenarios",
        default="baseline,a,b,c,x,d,e",
        help="comma list of baseline,a,b,c,x,d,e (x: round trips per request)",
    )
    p.add_argument("--quick", action="store_true", help="short runs to check the harness")
    p.add_argument(
        "--profile",
        action="store_true",
        help="attach py-spy to the web and RQ workers (numbers are then perturbed)",
    )
    p.add_argument("--wait-quiet", action="store_true", help="wait until no pytest runs")
    p.add_argument("--write-results", action="store_true", help="update bench/results.md")
    p.add_argument("--keep", action="store_true", help="keep bench/out/<run> logs")
    args = p.parse_args(argv)
    if args.quick:  # smaller defaults; options given explicitly still win
        quick = {
            "duration": 5.0,
            "warmup": 1.0,
            "flash_attempts": 1000,
            "flash_callers": 100,
            "kiosk_vouchers": 600,
            "qr_count": 100,
        }
        for name, value in quick.items():
            if getattr(args, name) == p.get_default(name):
                setattr(args, name, value)
    return args


def wait_quiet(limit_s: float = 1800, every_s: float = 60) -> str:
    """Poll until `pgrep -f pytest` finds nothing twice in a row (at most `limit_s`)."""
    started, quiet = time.monotonic(), 0
    while True:
        busy = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True).returncode == 0
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return "machine quiet (no pytest for two checks 60 s apart)"
        if time.monotonic() - started > limit_s:
            return "taken UNDER LOAD: pytest still running after 30 minutes of waiting"
        print(f"  waiting for a quiet machine: pytest {'running' if busy else 'gone'}", flush=True)
        time.sleep(every_s)


def pytest_running() -> bool:
    return subprocess.run(["pgrep", "-f", "pytest"], capture_output=True).returncode == 0


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [float(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                pass
    return found


class CpuMeter:
    """Where the machine's CPU went during one load run, in cores: the servers under test,
    PostgreSQL and Redis (all their processes: other users of them count too), the load
    client (this process's children) and the rest."""

    def __init__(self, servers: list[int]):
        self.servers = servers
        self.pg = pids_named("postgres")
        self.redis = pids_named("redis-server")
        self.t0 = time.monotonic()
        self.busy0, self.total0 = cpu_busy()
        self.s0 = sum(cpu_seconds(p) for p in self.servers)
        self.pg0 = {p: cpu_seconds(p) for p in self.pg}
        self.r0 = sum(cpu_seconds(p) for p in self.redis)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.c0 = usage.ru_utime + usage.ru_stime

    def note(self) -> str:
        seconds = max(time.monotonic() - self.t0, 1e-6)
        busy1, total1 = cpu_busy()
        servers = (sum(cpu_seconds(p) for p in self.servers) - self.s0) / seconds
        pg_now = pids_named("postgres")  # backends come and go: count the new ones whole
        pg = sum(cpu_seconds(p) - self.pg0.get(p, 0.0) for p in pg_now) / seconds
        redis = (sum(cpu_seconds(p) for p in self.redis) - self.r0) / seconds
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = (usage.ru_utime + usage.ru_stime - self.c0) / seconds
        cores = os.cpu_count() or 1
        machine = cores * (busy1 - self.busy0) / max(total1 - self.total0, 1)
        rest = max(machine - servers - pg - redis - client, 0.0)
        return (
            f"CPU in cores: servers under test {servers:.2f}, PostgreSQL {pg:.2f}, "
            f"Redis {redis:.2f}, load client {client:.2f}, rest {rest:.2f} "
            f"(machine {machine:.2f} of {cores})"
        )


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workdir = OUT / f"run-{stamp}"
        self.stack = Stack(self.workdir)
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.profiles: dict[str, str] = {}
        self.floor: float | None = None
        self.web: Proc | None = None
        self.web_port = 0
        self.web_peak_kib = 0
        self.rq_peak_kib = 0
        self.scenarios = set(args.scenarios.split(","))
        self.servers: list[int] = []  # pids whose CPU counts as "servers under test"
        self.anatomy_text = ""
        self.pytest_seen = False

    # --- plumbing -------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)

    def row(self, *cells: str) -> None:
        self.rows.append(Row(*cells))

    def loadgen(self, specs: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
        """Run one load generator process per spec; return their outputs. Notes CPU use."""
        self.pytest_seen |= pytest_running()
        procs = []
        meter = CpuMeter(self.servers)
        t0 = time.monotonic()
        for i, spec in enumerate(specs):
            spec_path = self.workdir / f"{label}-{i}.spec.json"
            out_path = self.workdir / f"{label}-{i}.out.json"
            spec_path.write_text(json.dumps(spec))
            log = open(self.workdir / f"{label}-{i}.log", "wb")  # noqa: SIM115
            procs.append(
                (
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)],
                        cwd=REPO,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    out_path,
                    log,
                )
            )
        outputs = []
        try:
            for popen, out_path, log in procs:
                popen.wait(timeout=900)
                log.close()
                if popen.returncode != 0:
                    raise RuntimeError(f"load generator {label} failed; see {log.name}")
                outputs.append(json.loads(out_path.read_text()))
        finally:
            for popen, _, _ in procs:
                if popen.poll() is None:
                    os.killpg(popen.pid, signal.SIGKILL)
                    popen.wait()
        elapsed = time.monotonic() - t0
        self.notes.append(f"{label} ({elapsed:.0f} s, Python load generator): {meter.note()}")
        self.pytest_seen |= pytest_running()
        return outputs

    def split(self, total: int) -> list[int]:
        procs = max(1, self.args.load_procs)
        return [total // procs + (1 if i < total % procs else 0) for i in range(procs)]

    def spy(self, pids: list[int], seconds: float, name: str) -> list[Spy]:
        if not self.args.profile:
            return []
        return [Spy(pid, seconds, self.workdir / f"profile-{name}-{pid}.txt") for pid in pids]

    def collect(self, spies: list[Spy], name: str) -> None:
        files = [p for p in (s.wait() for s in spies) if p is not None]
        if files:
            self.profiles[name] = summarise(files)
            (self.workdir / f"profile-{name}.summary.txt").write_text(self.profiles[name])

    # --- set-up ---------------------------------------------------------------------------------

    def setup(self) -> None:
        self.say(f"stack in {self.workdir}")
        cat.write_config(self.workdir)
        self.catalogue = cat.write_catalogue(self.workdir)
        self.stack.reset_stores()
        self.stack.ors("keys", "new", "--out", str(self.workdir / "key.pem"))
        self.stack.ors("migrate")
        self.say(self.stack.ors("catalog", "load", str(self.catalogue.path)).strip())
        self.say(self.stack.ors("slots", "generate", "--days", str(cat.SLOT_DAYS)).strip())
        self.notes.append(
            f"kiosk hospital time zone {self.catalogue.kiosk_tz}; flash slot on "
            f"{self.catalogue.flash_day} 10:00 Africa/Nairobi"
        )

    def start_web(self) -> None:
        self.web_port = free_port()
        a = self.args
        self.web = self.stack.serve(self.web_port, a.workers, a.threads)
        self.servers = children(self.web.pid)
        self.say(
            f"ors serve on 127.0.0.1:{self.web_port} ({a.workers} workers x {a.threads} threads)"
        )

    def web_workers(self) -> list[int]:
        assert self.web is not None
        return children(self.web.pid)

    def stop_web(self) -> None:
        if self.web is None:
            return
        for pid in self.web_workers():
            self.web_peak_kib = max(self.web_peak_kib, status_kib(pid, "VmHWM"))
        self.stack.stop(self.web)
        self.web = None

    def ussd_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/hooks/at/ussd?token={self.stack.token}"

    # --- load clients ---------------------------------------------------------------------------

    def use_wrk(self) -> bool:
        return self.args.client == "wrk"

    def wrk(self, url: str, mode: str, phone_base: int, tag: str, seconds: float) -> dict[str, Any]:
        """One wrk run with bench/ussd_walk.lua: one thread (one connection) per caller."""
        c = self.args.callers
        argv = [
            WRK or "wrk",
            f"-t{c}",
            f"-c{c}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
        ]
        argv += ["-s", str(REPO / "bench" / "ussd_walk.lua"), url, "--", mode, str(phone_base)]
        argv += ["Bench", tag]
        self.pytest_seen |= pytest_running()
        meter = CpuMeter(self.servers)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        self.pytest_seen |= pytest_running()
        for line in done.stdout.splitlines():
            if line.startswith("BENCHJSON "):
                result: dict[str, Any] = json.loads(line[len("BENCHJSON ") :])
                if not tag.endswith("-warm"):
                    self.notes.append(f"{tag} (wrk): {meter.note()}")
                return result
        raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")

    def wrk_load(self, url: str, mode: str, phone_base: int, tag: str) -> Load:
        a = self.args
        if a.warmup:
            self.wrk(url, mode, phone_base + 50_000_000, f"{tag}-warm", a.warmup)
        r = self.wrk(url, mode, phone_base, tag, a.duration)
        detail = ", ".join(
            f"{k} {r[k]}" for k in ("booked", "ended", "stuck", "sessions") if r.get(k)
        )
        return Load(
            "wrk",
            int(r["requests"]),
            float(r["seconds"]),
            float(r["p50_ms"]),
            float(r["p90_ms"]),
            float(r["p99_ms"]),
            int(r["socket_errors"]) + int(r["status_errors"]) + int(r["non200"]),
            int(r["malformed"]),
            int(r["apology"]),
            int(r["too_long"]) + int(r["unexpected"]),
            int(r["booked"]),
            detail,
        )

    def python_load(self, port: int, kind: str, label: str, phone_base: int) -> Load:
        a = self.args
        specs = [
            {
                "kind": kind,
                "url": self.ussd_url(port),
                "concurrency": n,
                "warmup": a.warmup,
                "duration": a.duration,
                "city": "Bench",
                "phone_base": phone_base + 1_000_000 * i,
                "tag": f"{label}{i}",
            }
            for i, n in enumerate(self.split(a.callers))
        ]
        outputs = self.loadgen(specs, label)
        self.samples(label, outputs)
        w = window(outputs, a.warmup, a.warmup + a.duration)
        booked = sum(
            1
            for out in outputs
            for t, what in out["events"]
            if what == "booked" and a.warmup <= t <= a.warmup + a.duration
        )
        outcomes: Counter[str] = Counter()
        for out in outputs:
            outcomes.update(out.get("outcomes", {}))
        return Load.from_window(w, booked, _counts(outcomes))

    def load(self, port: int, kind: str, label: str, phone_base: int) -> Load:
        if self.use_wrk():
            return self.wrk_load(self.ussd_url(port), kind, phone_base, label)
        return self.python_load(port, kind, label, phone_base)

    # --- baseline -------------------------------------------------------------------------------

    def baseline(self) -> None:
        a = self.args
        port = free_port()
        argv = [sys.executable, "-m", "bench.baseline_app", "--port", str(port)]
        argv += ["--workers", str(a.workers), "--threads", str(a.threads)]
        proc = self.stack.start("baseline", argv)
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", proc=proc)
            self.servers = wait_workers(proc, a.workers)
            r = self.load(port, "baseline", "baseline", 790_000_000)
        finally:
            self.stack.stop(proc)
        self.floor = r.rate
        name = f"Flask+Redis GET/SET req/s ({a.callers} conc., {r.client})"
        self.row("baseline", name, f"{r.rate:.0f}/s")
        self.row("baseline", "latency p50 / p90 / p99", r.latency())
        self.row("baseline", "errors", r.error_counts(), "0", judged(r.errors == 0))

    # --- (a) USSD walks -------------------------------------------------------------------------

    def ussd_walk(self) -> None:
        a = self.args
        spies = self.spy(self.web_workers(), a.warmup + a.duration, "a-ussd")
        r = self.load(self.web_port, "walk", "a-ussd", 710_000_000)
        self.collect(spies, "a-ussd")
        name = f"hops/s ({a.callers} callers, {r.client})"
        if self.floor:
            ratio = r.rate / self.floor
            ok = judged(ratio >= USSD_FLOOR_SHARE)
            target = f">= {USSD_FLOOR_SHARE * self.floor:.0f}/s (60% of floor)"
            self.row("(a) USSD", name, f"{r.rate:.0f}/s", target, ok)
            self.row("(a) USSD", "ratio to the floor", f"{ratio:.0%}", ">= 60%", ok)
        else:
            self.row("(a) USSD", name, f"{r.rate:.0f}/s")
        p99_ok = judged(r.p99 <= USSD_P99_MS)
        self.row("(a) USSD", "latency p50 / p90 / p99", r.latency(), "p99 <= 50 ms", p99_ok)
        errors = "errors: non-200 / malformed / apology / other"
        self.row("(a) USSD", errors, r.error_counts(), "0", judged(r.errors == 0))
        booked = f"{r.booked} ({r.booked / a.duration:.1f}/s; {r.detail})"
        self.row("(a) USSD", "bookings completed", booked)

    def samples(self, name: str, outputs: list[dict[str, Any]]) -> None:
        bad = [s for out in outputs for s in out.get("samples", [])]
        if bad:
            self.notes.append(f"{name}: first bad answers: " + " | ".join(bad[:5]))

    # --- (b) flash crowd ------------------------------------------------------------------------

    def flash(self) -> None:
        a = self.args
        spec = {
            "kind": "flash",
            "url": self.ussd_url(self.web_port),
            "concurrency": a.flash_callers,
            "attempts": a.flash_attempts,
            "city": cat.FLASH_CITY,
            "phone_base": 720_000_000,
            "tag": "flash",
        }
        before = fixtures.db_flash(cat.FLASH_HOSPITAL)
        self.say(f"(b) flash: walking {a.flash_attempts} sessions to the slot list first")
        spies: list[Spy] = []
        if a.profile:
            spies = []  # attached below, when the prewalk is over, would need a signal: skip
        (out,) = self.loadgen([spec], "b-flash")
        self.collect(spies, "b-flash")
        released = out["released_at"]
        attempts = out["attempts"]
        phase = {"requests": out["requests"][out["attempts_start_index"] :]}
        w = window([phase], released, None)
        last = max((t1 for _, t1, _ in attempts), default=released)
        span = last - released
        rate = len(attempts) / span if span else 0.0
        held = sorted(t for t, what in out["events"] if what == "held" and t >= released)
        booked = sorted(t for t, what in out["events"] if what == "booked" and t >= released)
        db = fixtures.db_flash(cat.FLASH_HOSPITAL)
        remote = before["remote_capacity"]
        exact = db["bookings"] == remote == cat.FLASH_REMOTE and db["remote_taken"] == remote
        sold_hold = held[remote - 1] - released if len(held) >= remote else None
        sold_book = booked[remote - 1] - released if len(booked) >= remote else None
        self.row(
            "(b) flash",
            "bookings in the database",
            f"{db['bookings']} (slot taken {db['remote_taken']}/{remote}, holds left {db['holds']})",
            "exactly 100",
            judged(exact),
        )
        self.row(
            "(b) flash",
            f"attempts/s ({len(attempts)} attempts, {a.flash_callers} callers)",
            f"{rate:.0f}/s",
            f">= {FLASH_RATE:.0f}/s",
            judged(rate >= FLASH_RATE),
        )
        self.row(
            "(b) flash",
            "sold out after (100th hold / 100th booking)",
            f"{_s(sold_hold)} / {_s(sold_book)}",
            f"<= {FLASH_SOLD_OUT_S:.0f} s",
            # Sold out = every place taken: the 100th hold (confirming turns holds into bookings).
            judged(sold_hold is not None and sold_hold <= FLASH_SOLD_OUT_S),
        )
        r = Load.from_window(w)
        self.row("(b) flash", "attempt hops p50 / p90 / p99", r.latency())
        self.row(
            "(b) flash",
            "errors: non-200 / malformed / apology / other",
            r.error_counts(),
            "0",
            judged(w.errors == 0),
        )
        self.row("(b) flash", "attempt outcomes", _counts(Counter(out["outcomes"])))
        self.notes.append(
            f"(b) prewalk: {out['prewalk_ready']} sessions at the slot list in "
            f"{out['prewalk_seconds']:.1f} s (not counted as attempts)"
        )
        self.samples("b", [out])

    # --- (c) kiosk ------------------------------------------------------------------------------

    def kiosk(self) -> None:
        a = self.args
        self.say(f"(c) kiosk: booking {a.kiosk_vouchers} vouchers through the booking service")
        t0 = time.monotonic()
        vouchers = fixtures.book_vouchers(
            self.stack.env, cat.KIOSK_HOSPITAL, a.kiosk_vouchers, 700_000_000
        )
        self.notes.append(
            f"(c) {len(vouchers)} bookings made through BookingService.book in {time.monotonic() - t0:.1f} s"
        )
        key = self.kiosk_key("bench")
        codes = scan_sequence(vouchers, a.typed_share, a.rescan_share, a.kiosk_concurrency)
        procs = max(1, a.load_procs)
        # Each process takes every k-th scan, so rescans stay after their first scan.
        specs = [
            {
                "kind": "kiosk",
                "url": f"http://127.0.0.1:{self.web_port}/kiosk/api/v1/checkin",
                "key": key,
                "concurrency": n,
                "codes": codes[i::procs],
            }
            for i, n in enumerate(self.split(a.kiosk_concurrency))
        ]
        spies = self.spy(self.web_workers(), 8, "c-kiosk")
        outputs = self.loadgen(specs, "c-kiosk")
        self.collect(spies, "c-kiosk")
        first = min(r[0] for out in outputs for r in out["requests"])
        w = window(outputs, first, None)
        statuses: Counter[str] = Counter()
        for out in outputs:
            statuses.update(out["statuses"])
        db = fixtures.db_checked_in(cat.KIOSK_HOSPITAL)
        distinct = len(vouchers)
        consistent = db["checked_in"] == distinct == db["distinct_queue_numbers"]
        self.row(
            "(c) kiosk",
            f"check-ins/s ({len(codes)} scans, {a.rescan_share:.0%} rescans, {a.kiosk_concurrency} conc.)",
            f"{w.rate:.0f}/s",
            f">= {KIOSK_RATE:.0f}/s",
            judged(w.rate >= KIOSK_RATE),
        )
        r = Load.from_window(w)
        self.row("(c) kiosk", "latency p50 / p90 / p99", r.latency())
        self.row(
            "(c) kiosk",
            "errors: non-200 / malformed / - / other",
            r.error_counts(),
            "0",
            judged(w.errors == 0),
        )
        self.row(
            "(c) kiosk",
            "database: checked in / distinct queue numbers",
            f"{db['checked_in']} / {db['distinct_queue_numbers']} of {distinct}",
            f"{distinct} / {distinct}",
            judged(consistent),
        )
        self.row("(c) kiosk", "answers", _counts(statuses))
        self.samples("c", outputs)

    # --- (d) SMS dispatch -----------------------------------------------------------------------

    def sms(self) -> None:
        """Voucher SMS through `ors worker` processes (RQ) to the fake AT: the relay's enqueue
        (one job per batch), timed from the first enqueue to the last `sent_at`."""
        import urllib.request

        from redis import Redis

        from gateway.messaging.policy import SendingPolicy
        from gateway.messaging.queues import RQQueue

        a = self.args
        fake_port = free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        fake = self.stack.start(
            "fake-at", [sys.executable, "-m", "bench.fake_at", "--port", str(fake_port)]
        )
        wait_http(f"{fake_url}/", proc=fake)
        ids = self.sms_messages()
        if not ids:
            self.row("(d) SMS", "messages/s", "no messages to send", f">= {SMS_RATE:.0f}/s", "miss")
            self.stack.stop(fake)
            return
        # The workers' own sweeps enqueue nothing of these: none is overdue for requeue_stale
        # (30 s) before the timed enqueue, which follows the relay within seconds.
        workers = [
            self.stack.worker(f"ors-worker-{i}", {"ORS_AT_BASE_URL": fake_url})
            for i in range(a.sms_workers)
        ]
        try:
            wait_rq_workers(len(workers), workers)
            settled = wait_idle([w.pid for w in workers])
            spies = self.spy([w.pid for w in workers], 60, "d-sms")
            redis = Redis.from_url(self.stack.env["ORS_REDIS_URL"])
            queue = RQQueue(redis, SendingPolicy())  # what relay_once enqueues through
            self.pytest_seen |= pytest_running()
            early = fixtures.db_sent_span(ids)[0]
            self.servers = [w.pid for w in workers] + [fake.pid]
            meter = CpuMeter(self.servers)
            t0 = time.time()
            queue.enqueue(ids)
            enqueued = time.time() - t0
            deadline = time.monotonic() + 120 + len(ids) / 50
            sent = 0
            while time.monotonic() < deadline:
                sent, _, last = fixtures.db_sent_span(ids)
                if sent >= len(ids):
                    break
                time.sleep(0.1)
            cpu_note = meter.note()
            sent, _, last = fixtures.db_sent_span(ids)
            redis.close()
            for w in workers:
                self.rq_peak_kib = max(self.rq_peak_kib, status_kib(w.pid, "VmHWM"))
            for spy in spies:
                spy.popen.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
            self.collect(spies, "d-sms")
            once = fixtures.db_sent_once(ids)
            with urllib.request.urlopen(f"{fake_url}/", timeout=5) as response:
                served = int(json.load(response)["served"])
        finally:
            for proc in [*workers, fake]:
                self.stack.stop(proc)
        span = last - t0
        rate = (sent - early) / span if span > 0 else 0.0
        if early:
            self.notes.append(f"(d) {early} messages were sent before the timed enqueue began")
        batch = SendingPolicy().batch_size
        self.row(
            "(d) SMS",
            f"messages/s, enqueue -> sent ({sent} msgs, {a.sms_workers} `ors worker`, "
            f"jobs of {batch})",
            f"{rate:.0f}/s",
            f">= {SMS_RATE:.0f}/s",
            judged(rate >= SMS_RATE and sent == len(ids)),
        )
        self.row(
            "(d) SMS",
            "messages by status",
            _counts(Counter(fixtures.db_messages())),
            f"all {len(ids)} sent",
            judged(sent == len(ids)),
        )
        exactly_once = once["retried"] == 0 and once["distinct_ids"] == len(ids)
        self.row(
            "(d) SMS",
            "sent once: attempted twice / distinct provider ids / fake AT requests",
            f"{once['retried']} / {once['distinct_ids']} / {served}",
            f"0 / {len(ids)} / {once['at_sent']} (AT-sent rows)",
            judged(exactly_once and served == once["at_sent"]),
        )
        self.notes.append(
            f"(d) the workers' first sweep round (slots ahead, holds, relay) ended {settled:.1f} s "
            f"after they registered; then enqueueing {len(ids)} messages as "
            f"{-(-len(ids) // batch)} batch jobs (in the harness) took {enqueued:.2f} s; "
            f"{cpu_note.replace('servers under test', 'ors workers + fake AT')}"
        )

    def sms_messages(self) -> list[int]:
        """Queued voucher messages for (d): the earlier scenarios' bookings, topped up to
        SMS_MIN_MESSAGES with bookings of its own, relayed into rows without jobs."""
        missing = (
            SMS_MIN_MESSAGES - fixtures.db_unrelayed_vouchers() - len(fixtures.db_queued_ids())
        )
        if missing > 0:
            self.say(f"(d) sms: booking {missing} vouchers to send")
            fixtures.book_vouchers(self.stack.env, cat.KIOSK_HOSPITAL, missing, SMS_PHONE_BASE)
        relayed = fixtures.relay_without_jobs(self.stack.env)
        ids = fixtures.db_queued_ids()
        self.say(f"(d) sms: {relayed} events relayed; {len(ids)} queued messages")
        return ids

    # --- anatomy: round trips per request -------------------------------------------------------

    def anatomy(self) -> None:
        from bench import anatomy

        lines = [anatomy.baseline(self.stack.env["ORS_REDIS_URL"])]
        lines += anatomy.ussd_walk(self.stack.env, "Bench")
        vouchers = fixtures.book_vouchers(self.stack.env, cat.KIOSK_HOSPITAL, 20, 733_500_000)
        payloads = [payload for _, payload in vouchers]
        lines += anatomy.kiosk(self.stack.env, self.kiosk_key("anatomy"), payloads)
        self.anatomy_text = anatomy.render(lines)

    def kiosk_key(self, name: str) -> str:
        out = self.stack.ors("kiosk", "add", "--hospital", cat.KIOSK_HOSPITAL, "--name", name)
        return out.strip().splitlines()[-1]

    # --- (e) QR, (f) memory ---------------------------------------------------------------------

    def qr(self) -> None:
        from tcode import render_png

        payloads = qr_render.make_payloads(self.args.qr_count)
        timings = qr_render.time_interleaved(payloads, {"fixed": render_png})["fixed"]
        mean = sum(timings) / len(timings)
        p99 = percentile(timings, 0.99)
        self.row(
            "(e) QR",
            f"render ms per PNG ({len(timings)}): mean / p50 / p99",
            f"{mean:.2f} / {percentile(timings, 0.5):.2f} / {p99:.2f}",
            f"<= {QR_MS:.0f} ms",
            judged(mean <= QR_MS),
        )

    def memory(self) -> None:
        if self.web_peak_kib:
            self.row(
                "(f) memory",
                "peak RSS of a web worker (VmHWM)",
                f"{self.web_peak_kib / 1024:.0f} MiB",
            )
        if self.rq_peak_kib:
            self.row(
                "(f) memory",
                "peak RSS of an RQ worker (VmHWM)",
                f"{self.rq_peak_kib / 1024:.0f} MiB",
            )

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> None:
        s = self.scenarios
        self.setup()
        if "baseline" in s:
            self.say("baseline: bare Flask + Redis GET/SET")
            self.baseline()
        if s & {"a", "b", "c"}:
            self.start_web()
            if "a" in s:
                self.say(f"(a) USSD walks: {self.args.callers} callers")
                self.ussd_walk()
            if "b" in s:
                self.flash()
            if "c" in s:
                self.kiosk()
            self.stop_web()
        if "x" in s:
            self.say("anatomy: round trips per request, in-process")
            self.anatomy()
        if "d" in s:
            self.sms()
        if "e" in s:
            self.say("(e) QR render")
            self.qr()
        self.memory()

    def close(self) -> None:
        self.stack.stop_all()
        try:
            self.stack.drop_database()
            self.stack.flush_redis()
        except Exception as exc:  # report, but never hide the original error
            print(f"bench: clean-up failed: {exc}", file=sys.stderr)


def wait_rq_workers(count: int, procs: list[Proc], timeout: float = 30.0) -> None:
    from redis import Redis
    from rq import Worker

    from bench.stack import REDIS_URL

    redis = Redis.from_url(REDIS_URL)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in procs:
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited; see {proc.log}")
            if len(Worker.all(connection=redis)) >= count:
                time.sleep(0.5)  # the first sweep round has run
                return
            time.sleep(0.1)
    finally:
        redis.close()
    raise RuntimeError(f"fewer than {count} RQ workers registered after {timeout:.0f} s")


def wait_idle(pids: list[int], timeout: float = 25.0, window: float = 0.5) -> float:
    """Wait until these processes use almost no CPU for `window` seconds; return the wait.

    A fresh `ors worker` runs its first sweep round at once (the booking sweep keeps slots
    generated ahead): timing messages through it meanwhile would measure start-up, not sending.
    The timeout stays below requeue_stale's grace, so no message is overdue before the enqueue.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(window)
        if sum(cpu_seconds(p) for p in pids) - before < 0.05 * window * len(pids):
            break
    return time.monotonic() - started


def scan_sequence(
    vouchers: list[tuple[str, str]], typed_share: float, rescan_share: float, concurrency: int
) -> list[str]:
    """First scans (QR payload, or the typed T-code) in random order, plus later rescans."""
    rng = random.Random(42)
    order = vouchers[:]
    rng.shuffle(order)
    keyed: list[tuple[float, str]] = []
    for i, (tcode, payload) in enumerate(order):
        keyed.append((i, tcode if rng.random() < typed_share else payload))
    n = len(order)
    rescans = int(rescan_share / (1 - rescan_share) * n) if rescan_share < 1 else n
    gap = 4 * concurrency  # a rescan comes well after its first scan has been answered
    for _ in range(rescans):
        i = rng.randrange(0, max(1, n - gap))
        keyed.append((rng.uniform(i + gap, n), order[i][1]))
    keyed.sort(key=lambda k: k[0])
    return [code for _, code in keyed]


def _counts(c: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in c.most_common())


def _s(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def results_block(bench: Bench, started: datetime, quiet: str, argv: list[str]) -> str:
    a = bench.args
    command = (
        "make bench"
        if argv == ["--write-results"]
        else "python -m bench.harness " + shlex.join(argv)
    )
    under = "yes: the numbers were taken under load" if bench.pytest_seen else "no"
    lines = [
        f"Run of {started:%Y-%m-%d %H:%M} UTC - {machine()}",
        "",
        f"Command: `{command}` (gunicorn {a.workers} workers x {a.threads} threads, "
        f"{a.load_procs} load process(es), {a.duration:.0f} s measured after {a.warmup:.0f} s warm-up)",
        f"Machine state: {quiet}; pytest seen running during the measurements: {under}",
        "",
        table(bench.rows),
        "",
        "Notes:",
        *[f"- {n}" for n in bench.notes],
    ]
    if bench.anatomy_text:
        lines += [
            "",
            "Round trips and cost per request (in-process through Flask's test client, one "
            "request at a time, means of 20 callers / vouchers):",
            "",
            bench.anatomy_text,
        ]
    for name, text in bench.profiles.items():
        lines += ["", f"Profile {name} (py-spy):", "```", text.rstrip(), "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    quiet = wait_quiet() if args.wait_quiet else "not checked (no --wait-quiet)"
    started = datetime.now(UTC)

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    bench = Bench(args)
    failed = False
    try:
        bench.run()
    except KeyboardInterrupt:
        print("bench: interrupted; stopping everything", file=sys.stderr)
        failed = True
    except Exception as exc:
        print(f"bench: {type(exc).__name__}: {exc}", file=sys.stderr)
        failed = True
        if os.environ.get("BENCH_DEBUG"):
            raise
    finally:
        bench.close()
    block = results_block(bench, started, quiet, argv)
    print()
    print(block)
    if args.write_results and not failed and not args.quick:
        write_results(block)
        print(f"\nwrote {Path('bench/results.md')}")
    if not args.keep and not failed:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    else:
        print(f"logs kept in {bench.workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
