"""A fault case from start to end, and the reckoning of the whole run once SMS have settled.

A case: the system books before the fault (the previous case left nothing broken); 20
callers walk; the fault is injected and held; from its end a probe walks fresh sessions until
one is booked (the recovery time); the callers hang up. What the callers saw is in the ledger;
the SMS checks wait until the end of the run, because retries after a fault (a provider
backoff, a killed worker's lease) outlast the case, and the cases go on meanwhile.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.faults import checks
from tests.faults.callers import APOLOGY, Crowd, Hop, Ledger
from tests.faults.faults import Window
from tests.faults.health import HealthProbe, Sample
from tests.faults.rig import Rig

CALLERS = 20
LEAD_SECONDS = 2.0  # callers walk this long before the fault: some are mid-session when it hits
TAIL_SECONDS = 1.0
READY_LIMIT = 30.0  # the system must book before a fault starts
RECOVERY_LIMIT = 20.0  # how long the probe tries after the fault (the bound checked is 5 s)
RECOVERY_BOUND = 5.0
SETTLE_LIMIT = 150.0  # a killed worker's lease (90 s) or provider backoff outlasts a case


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    inject: Callable[[Rig], Window]
    healthz_bound: float | None = None  # the acceptance: /healthz while it lasts


@dataclass
class CaseRun:
    case: Case
    window: Window
    ready: float | None
    recovery: float | None
    health: list[Sample]
    dead_workers: list[str]
    hops: list[Hop]
    error: str = ""  # why the fault could not be injected

    @property
    def polite_ends(self) -> int:
        return sum(h.verdict == APOLOGY for h in self.hops)

    @property
    def slowest(self) -> float:
        return max((h.seconds for h in self.hops), default=0.0)

    @property
    def slowest_in_fault(self) -> float:
        w = self.window
        return max((h.seconds for h in self.hops if w.started <= h.started <= w.ended), default=0)

    @property
    def slowest_healthz(self) -> float:
        return max((s.seconds for s in self.health), default=0.0)

    def healthz_over(self, bound: float) -> str:
        """How many probes took longer than `bound`, and until when into the fault."""
        slow = [s for s in self.health if s.seconds > bound]
        if not slow:
            return f"none of {len(self.health)} probes over {bound * 1000:.0f} ms"
        last = max(s.started for s in slow) - self.window.started
        median = sorted(s.seconds for s in self.health)[len(self.health) // 2]
        return (
            f"{len(slow)} of {len(self.health)} probes over {bound * 1000:.0f} ms, the last begun"
            f" {last:.1f} s into the fault; median {median * 1000:.0f} ms"
        )


@dataclass
class Delivery:
    """The voucher SMS of one case's bookings, once everything has settled."""

    unseen: int = 0  # bookings no screen showed (the answer was lost); the SMS told the caller
    once: int = 0
    twice: int = 0  # sent two or more times
    why_twice: Counter[str] = field(default_factory=Counter)


class FaultsRun:
    def __init__(self, rig: Rig, crowd: Crowd, ledger: Ledger):
        self.rig, self.crowd, self.ledger = rig, crowd, ledger
        self.runs: dict[str, CaseRun] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.failures: dict[str, list[str]] = {}  # what went wrong, by case (or "SMS")
        self.started = time.monotonic()
        self.settled_in: float | None = None  # seconds the SMS took to settle after the last case
        self.hop_bound = rig.settings.timeouts.hop_deadline + 1.0

    def run(self, case: Case) -> CaseRun:
        ready = self.crowd.book_once(case.key, READY_LIMIT)
        window, recovery, error = Window(time.monotonic()).close(), None, ""
        self.crowd.start(case.key, CALLERS)
        try:
            time.sleep(LEAD_SECONDS)
            with HealthProbe(self.rig.web_port) as health:
                if ready is not None:  # a system that cannot book already proves nothing
                    window, error = self._inject(case)
            if ready is not None:
                recovery = self.crowd.book_once(case.key, RECOVERY_LIMIT)
                time.sleep(TAIL_SECONDS)
        finally:
            self.crowd.stop()
        run = CaseRun(
            case,
            window,
            ready,
            recovery,
            health.samples,
            self.rig.dead_workers(),
            self.ledger.hops_of(case.key),
            error,
        )
        self.runs[case.key] = run
        return run

    def _inject(self, case: Case) -> tuple[Window, str]:
        """The fault's window; a fault that could not be injected is reported, not raised,
        so the case is still recorded and the run goes on to the next."""
        started = time.monotonic()
        try:
            return case.inject(self.rig), ""
        except Exception as exc:
            return Window(started).close(), f"{type(exc).__name__}: {exc}"

    def problems(self, run: CaseRun) -> list[str]:
        """What a case got wrong, right after it (the SMS are reckoned at the end)."""
        problems = []
        if run.ready is None:
            problems.append(
                f"no booking succeeded within {READY_LIMIT:.0f} s before the fault, which was"
                " therefore not injected"
            )
        if run.error:
            problems.append(f"the fault could not be injected: {run.error}")
        problems += checks.hop_problems(run.hops, self.hop_bound)
        rows = checks.bookings(self.rig.database_url)
        problems += checks.seen_booking_problems(self.ledger, run.case.key, rows)
        problems += checks.capacity_problems(self.rig.database_url)
        if run.recovery is None or run.recovery > RECOVERY_BOUND:
            took = "none" if run.recovery is None else f"the first after {run.recovery:.1f} s"
            problems.append(f"a new booking after the fault: {took} (bound {RECOVERY_BOUND} s)")
        bound = run.case.healthz_bound
        if bound is not None and run.slowest_healthz > bound:
            problems.append(
                f"/healthz answered in {run.slowest_healthz * 1000:.0f} ms at worst while the"
                f" fault lasted: {run.healthz_over(bound)}"
            )
        if bad := [s for s in run.health if s.status != 200]:
            problems.append(f"/healthz: {len(bad)} of {len(run.health)} probes not 200")
        problems += [f"{name} died during the case" for name in run.dead_workers]
        if problems:
            self.failures[run.case.name] = problems
        return problems

    # --- the end of the run -------------------------------------------------------------------

    def settle(self) -> list[str]:
        """Wait (bounded) until every booking's voucher SMS went out; then reckon the run."""
        started = time.monotonic()
        while True:
            rows = checks.bookings(self.rig.database_url)
            sent = checks.vouchers_sent(self.rig.provider.snapshot())
            if not self._unsent(rows, sent) or time.monotonic() > started + SETTLE_LIMIT:
                break
            time.sleep(0.5)
        self.settled_in = time.monotonic() - started
        problems = self._reckon(rows, sent)
        if problems:
            self.failures["SMS after all faults"] = problems
        return problems

    def _unsent(self, rows: list[checks.BookingRow], sent: checks.Sent) -> list[str]:
        """The cases of the bookings (seen or in the database) with no voucher SMS yet."""
        wanted = {(r.phone, r.tcode) for r in rows if r.status == "confirmed"}
        wanted |= set(self.ledger.booked.items())
        return [self.ledger.case_of.get(p, "?") for p, t in sorted(wanted) if not sent.get((p, t))]

    def _reckon(self, rows: list[checks.BookingRow], sent: checks.Sent) -> list[str]:
        problems = [
            f"{case}: a booking whose voucher SMS never went out"
            for case in self._unsent(rows, sent)
        ]
        windows = [run.window for run in self.runs.values()]
        self.deliveries = {key: Delivery() for key in self.runs}
        for row in rows:
            case = self.ledger.case_of.get(row.phone)
            if case is None:
                problems.append("a booking by a phone that no caller of the run dialled")
                continue
            delivery = self.deliveries.setdefault(case, Delivery())
            copies = sent.get((row.phone, row.tcode), [])
            if row.phone not in self.ledger.booked:
                delivery.unseen += 1
            if len(copies) == 1:
                delivery.once += 1
            elif len(copies) > 1:
                delivery.twice += 1
                for copy in copies[:-1]:
                    reason = checks.why_unrecorded(copy, windows)
                    if reason is None:
                        problems.append(
                            f"{case}: a voucher sent {len(copies)} times with no kill, timeout"
                            " or outage after the provider accepted it"
                        )
                        break
                    delivery.why_twice[reason] += 1
        return problems
