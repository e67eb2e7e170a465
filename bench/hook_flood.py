"""Review finding 2, measured: forged 4 MB posts to `/hooks/twilio/sms` while a USSD caller books.

    .venv/bin/python -m bench.hook_flood [--workers 2] [--threads 2] [--seconds 15]

Starts the production stack on loopback as `bench.harness` does (fresh `ors_bench` database,
Redis db 13, generated catalogue, `ors serve`), with a Twilio auth token configured so that a
request with any `X-Twilio-Signature` reaches the signature check. Then, in one run:

  1. one USSD caller walks whole bookings for `--seconds`, alone;
  2. the same caller walks for `--seconds` more while `--floods` attackers each post forged
     4 MB bodies, one after another (at most `--max-posts` each, `--pause` apart).

It prints the attackers' refusal times (until the status line arrived) and the caller's hop
latencies, p50 / p99 / max, with and without the attack. Traffic goes to 127.0.0.1 only,
bounded in count and time; everything started is stopped, the database dropped, Redis flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import secrets
import select
import shutil
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.harness import Bench, pytest_running
from bench.harness import parse_args as harness_args
from bench.loadgen import OK, Phones, Recorder, Ussd, walk_once
from bench.report import percentile

HOOK = "/hooks/twilio/sms"
BODY_BYTES = 4 * 1024 * 1024
SEND_CHUNK = 256 * 1024
POST_TIMEOUT_S = 30.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    p.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    p.add_argument("--floods", type=int, default=4, help="parallel attackers")
    p.add_argument("--max-posts", type=int, default=150, help="forged posts per attacker, at most")
    p.add_argument("--pause", type=float, default=0.05, help="seconds between one's posts")
    p.add_argument("--keep", action="store_true", help="keep bench/out/<run> logs")
    return p.parse_args(argv)


# --- the attack -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    status: int  # 0: no status line came back
    seconds: float  # from connect until the status line (or the failure)
    written: int  # body bytes the socket accepted before the answer


def forged_body() -> bytes:
    """`k0=v&k1=v&…`, 4 MB: the review's 400,000-parameter body, cut to size."""
    fields = "&".join(f"k{i}=v" for i in range(BODY_BYTES // 6 + 1)).encode()
    return fields[:BODY_BYTES]


def forged_post(port: int, body: bytes) -> Refusal:
    """Post `body` with a forged signature, reading while writing: stop at the status line."""
    head = (
        f"POST {HOOK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Twilio-Signature: forged\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    data, sent, answer = memoryview(head + body), 0, b""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=POST_TIMEOUT_S) as sock:
        sock.setblocking(False)
        while time.perf_counter() - t0 < POST_TIMEOUT_S:
            writing = [sock] if sent < len(data) else []
            readable, writable, _ = select.select([sock], writing, [], 1.0)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    break
                answer += chunk
                if not chunk or b"\r\n" in answer:
                    break
            if writable:
                try:
                    sent += sock.send(data[sent : sent + SEND_CHUNK])
                except OSError:  # the server closed its side: read what it said
                    sent = len(data)
    seconds = time.perf_counter() - t0
    status = int(answer[9:12]) if answer[:5] == b"HTTP/" and len(answer) >= 12 else 0
    return Refusal(status, seconds, max(sent - len(head), 0))


def attacker(
    port: int, seconds: float, max_posts: int, pause: float, ready: Any, go: Any, out: Any
) -> None:
    """One attacker process: forged posts back to back for `seconds` after `go` is set."""
    body = forged_body()
    ready.put(True)
    go.wait()
    results: list[Refusal] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until and len(results) < max_posts:
        try:
            results.append(forged_post(port, body))
        except OSError:
            results.append(Refusal(0, 0.0, 0))
        time.sleep(pause)
    out.put(results)


# --- the caller -----------------------------------------------------------------------------


async def walk(url: str, seconds: float, phone_base: int, tag: str) -> Recorder:
    """One USSD caller walking whole bookings, session after session, for `seconds`."""
    rec, phones, rng = Recorder(), Phones(phone_base), random.Random(tag)
    ussd = Ussd(url, rec)
    seq = 0
    while rec.now() < seconds:
        seq += 1
        rec.event(await walk_once(ussd, f"ATUid_flood_{tag}_{seq}", phones.take(), "Bench", rng))
    return rec


def hop_line(label: str, rec: Recorder) -> str:
    lat = [(t1 - t0) * 1000 for t0, t1, _, _ in rec.requests]
    bad = Counter(v for _, _, _, v in rec.requests if v != OK)
    booked = sum(1 for _, what in rec.events if what == "booked")
    return (
        f"USSD caller {label}: {len(lat)} hops, {booked} bookings, "
        f"p50 {percentile(lat, 0.5):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms, "
        f"max {max(lat, default=0):.1f} ms, errors {dict(bad) or 0}"
    )


def refusal_lines(refusals: list[Refusal]) -> list[str]:
    ms = [r.seconds * 1000 for r in refusals]
    statuses = Counter(r.status for r in refusals)
    written = sorted(r.written for r in refusals)
    median_written = written[len(written) // 2] / 2**20 if written else 0.0
    return [
        f"forged 4 MB posts: {len(refusals)}, statuses {dict(statuses)}",
        f"refusal time (connect to status line): p50 {percentile(ms, 0.5):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=0):.1f} ms",
        f"body bytes the client got to write before the answer: median {median_written:.2f} MiB "
        f"of {BODY_BYTES / 2**20:.0f} MiB (kernel socket buffers, not read by the app)",
    ]


def attack(port: int, args: argparse.Namespace, url: str) -> tuple[Recorder, list[Refusal]]:
    """Phase 2: the caller walks while the attackers post; return both sides' records."""
    ctx = multiprocessing.get_context("spawn")  # no copy of this process's state
    ready, go, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    job = (port, args.seconds, args.max_posts, args.pause, ready, go, out)
    procs = [ctx.Process(target=attacker, args=job) for _ in range(args.floods)]
    try:
        for proc in procs:
            proc.start()
        for _ in procs:  # each has imported and built its body: the attack starts at once
            ready.get(timeout=120)
        go.set()
        rec = asyncio.run(walk(url, args.seconds, 737_500_000, "attacked"))
        refusals = [r for _ in procs for r in out.get(timeout=POST_TIMEOUT_S + 30)]
    finally:
        for proc in procs:
            if proc.pid is None:
                continue  # never started
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return rec, refusals


def run(args: argparse.Namespace) -> list[str]:
    bench = Bench(harness_args(["--workers", str(args.workers), "--threads", str(args.threads)]))
    # With an auth token every forged header reaches the signature check, as in the review.
    bench.stack.env["ORS_TWILIO_AUTH_TOKEN"] = secrets.token_urlsafe(24)
    try:
        bench.setup()
        bench.start_web()
        url = bench.ussd_url(bench.web_port)
        asyncio.run(walk(url, 2.0, 737_000_000, "warmup"))
        bench.say(f"phase 1: one USSD caller alone, {args.seconds:.0f} s")
        quiet = asyncio.run(walk(url, args.seconds, 737_100_000, "quiet"))
        bench.say(f"phase 2: the caller with {args.floods} attackers, {args.seconds:.0f} s")
        attacked, refusals = attack(bench.web_port, args, url)
        busy = pytest_running()  # numbers taken beside other test runs are noisier
        bench.stop_web()
    finally:
        bench.close()
        if not args.keep:
            shutil.rmtree(bench.workdir, ignore_errors=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return [
        f"hook flood (review finding 2): ors serve {args.workers} workers x {args.threads} "
        f"threads; {args.floods} parallel attackers posting forged 4 MB bodies to {HOOK}",
        f"machine: load average {load}; other pytest runs: {'yes' if busy else 'no'}",
        *refusal_lines(refusals),
        hop_line("without the attack", quiet),
        hop_line("under the attack   ", attacked),
    ]


def main(argv: list[str] | None = None) -> int:
    lines = run(parse_args(argv))
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
