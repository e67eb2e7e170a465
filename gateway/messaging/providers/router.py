"""Which provider sends to which phone: `messaging.provider`, or one per calling code.

Providers are built on first use, so a process that never sends (`ors migrate`) needs no
provider secrets; `check()` builds them all up front for the processes that do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from gateway.messaging.providers import SmsProvider


class ProviderRouter:
    def __init__(
        self,
        default: str,
        by_prefix: Mapping[str, str],
        factories: Mapping[str, Callable[[], SmsProvider]],
    ):
        self.default = default
        # Longest calling code first, so +1268 wins over +1.
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: -len(item[0]))
        self.factories = dict(factories)
        self._built: dict[str, SmsProvider] = {}
        self._lock = threading.Lock()

    def name_for(self, phone: str) -> str:
        """The provider that sends to `phone` (E.164)."""
        return next(
            (name for prefix, name in self.by_prefix if phone.startswith(prefix)), self.default
        )

    def get(self, name: str) -> SmsProvider:
        """The provider called `name`, built once (raises ConfigError if it lacks a setting)."""
        with self._lock:
            if name not in self._built:
                if name not in self.factories:
                    raise KeyError(f"no SMS provider called {name!r}")
                self._built[name] = self.factories[name]()
            return self._built[name]

    def names(self) -> set[str]:
        return {self.default, *(name for _, name in self.by_prefix)}

    def check(self) -> None:
        """Build every provider this configuration routes to, so a missing secret stops start-up."""
        for name in sorted(self.names()):
            self.get(name)
