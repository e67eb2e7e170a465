"""Gunicorn's logger for `ors serve`, masking every line from the first one.

`create_app` masks gunicorn's handlers in each worker (gateway/logs.py), but the arbiter never
builds the app (`preload_app` is off), so its own lines (worker boots, timeouts, crashes with
their tracebacks) and a worker's lines before its app exists would go out unmasked. Named as
gunicorn's `logger_class`, this one masks its handlers whenever gunicorn sets them up, in the
arbiter and again after a reload (SIGHUP).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from gateway.logs import masked


class MaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                masked(handler)
