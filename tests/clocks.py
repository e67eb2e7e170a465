"""The clock of a test runtime, typed as what it is: a FixedClock that tests move."""

from __future__ import annotations

from gateway.clock import FixedClock
from gateway.runtime import Runtime


def clock_of(rt: Runtime) -> FixedClock:
    """Return the runtime's clock, which every test runtime builds on a FixedClock."""
    assert isinstance(rt.clock, FixedClock), f"a test runtime on {type(rt.clock).__name__}"
    return rt.clock
