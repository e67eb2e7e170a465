"""The faults table: printed after every run, and kept in bench/results.md under "## Faults"
when ORS_FAULTS_WRITE=1 (so an ordinary run leaves the tree clean)."""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.scenario import CALLERS, FaultsRun

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.md"
BEGIN, END = "<!-- faults:begin (written by tests/faults) -->", "<!-- faults:end -->"
HEADING = "## Faults"
INTRO = """\
`make test-faults` (tests/faults/, not part of `make test`) starts a PostgreSQL (`initdb` in a
temporary directory) and a Redis of its own on free ports, each behind a TCP proxy of the
suite's that can refuse or hang, a fake Africa's Talking, and the production stack through
them: `ors serve` with its default workers x threads and two `ors worker`. 20 callers walk
USSD bookings while each fault lasts. A row passes when every hop was answered within the hop
deadline + 1 s (a polite END counts), every caller who saw "Booked!" has exactly one booking
and its voucher SMS, no booking exists that no caller saw (one whose answer was lost counts as
seen once its SMS reached the phone: "unseen"), the capacity counters equal the rows, and a
new booking succeeds within 5 s of the fault's end. `make test-faults ORS_FAULTS_WRITE=1`
rewrites the block below."""
COLUMNS = (
    "fault",
    "hops",
    "polite ENDs",
    "bookings confirmed",
    "SMS sent once / twice",
    "recovery s",
    "slowest hop s",
)


def rows(run: FaultsRun) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, case_run in run.runs.items():
        d = run.deliveries.get(key)
        booked = str(len(run.ledger.booked_in(key)))
        if d and d.unseen:
            booked += f" (+{d.unseen} unseen)"
        out.append(
            (
                case_run.case.name,
                str(len(case_run.hops)),
                str(case_run.polite_ends),
                booked,
                f"{d.once} / {d.twice}" if d else "- (not reckoned)",
                "none" if case_run.recovery is None else f"{case_run.recovery:.1f}",
                f"{case_run.slowest:.2f}",
            )
        )
    return out


def table(run: FaultsRun) -> str:
    body = rows(run)
    widths = [max(len(r[i]) for r in [COLUMNS, *body]) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(COLUMNS), rule, *(line(r) for r in body)])


def notes(run: FaultsRun) -> list[str]:
    out = []
    for case_run in run.runs.values():
        if case_run.case.healthz_bound is None:
            continue
        out.append(
            f"{case_run.case.name}, the acceptance: slowest USSD hop begun during the fault "
            f"{case_run.slowest_in_fault:.2f} s (bound {run.hop_bound:.0f} s); /healthz slowest "
            f"{case_run.slowest_healthz * 1000:.0f} ms "
            f"({case_run.healthz_over(case_run.case.healthz_bound)})"
        )
    provider = run.rig.provider
    out.append(
        f"fake Africa's Talking: {len(provider.snapshot())} messages accepted, {provider.refused}"
        " sends answered 500/429 or held until the sender gave up without being accepted"
    )
    why = sum((d.why_twice for d in run.deliveries.values()), Counter())
    if why:
        out.append("second copies: " + ", ".join(f"{n} {reason}" for reason, n in why.items()))
    for name, found in run.failures.items():
        out += [f"FAILED {name}: {p}" for p in found]
    return out


def render(run: FaultsRun) -> str:
    workers, threads = run.rig.shape
    took = time.monotonic() - run.started
    head = (
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; `ors serve` defaults {workers} workers x {threads} "
        f"threads, 2 `ors worker`; {CALLERS} callers; the cases took {took:.0f} s"
    )
    if run.settled_in is not None:
        head += f", of which {run.settled_in:.0f} s waiting for the last voucher SMS"
    ci = "CI=true " if os.environ.get("CI", "").lower() == "true" else ""
    lines = [head, "", f"Command: `{ci}make test-faults`", ""]
    lines += [table(run), ""]
    lines += [f"- {n}" for n in notes(run)]
    return "\n".join(lines).rstrip() + "\n"


def write_results(text: str, path: Path = RESULTS) -> None:
    """Replace the block between the markers, adding the section at the end the first time."""
    current = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{text}{END}"
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        updated = before + block + after
    else:
        updated = current.rstrip("\n") + f"\n\n{HEADING}\n\n{INTRO}\n\n{block}\n"
    path.write_text(updated, encoding="utf-8")
