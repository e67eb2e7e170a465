"""A gate that holds a dependency shut, as a database that accepts and never answers does.

Tests wrap a booking operation with it; each call waits until the test opens the gate (or
30 s, so a broken test cannot hang the suite), and the gate keeps how each call ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Gate:
    """Wraps a booking operation so that each call waits until the test opens the gate, and
    keeps how each ended (None: it returned)."""

    opened: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)
    entered: int = 0
    outcomes: list[BaseException | None] = field(default_factory=list)

    def wrap(self, operation: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any, **kwargs: Any) -> Any:
            with self.changed:
                self.entered += 1
                self.changed.notify_all()
            self.opened.wait(timeout=30)  # bounded, so a broken test cannot hang the suite
            outcome: BaseException | None = None
            try:
                return operation(*args, **kwargs)
            except BaseException as error:
                outcome = error
                raise
            finally:
                with self.changed:
                    self.outcomes.append(outcome)
                    self.changed.notify_all()

        return gated

    def open_and_settle(self) -> list[BaseException | None]:
        """Let the held calls go on; return how they ended, once every one has."""
        self.opened.set()
        with self.changed:
            settled = self.changed.wait_for(lambda: len(self.outcomes) == self.entered, 10)
        assert settled, "abandoned work never finished"
        return self.outcomes
