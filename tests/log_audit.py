"""Every log line the suite writes, checked for personal data (issue 16: findings 4 and 19).

`LogAudit` is a handler on the root logger for the whole session. It formats each record as
production does (gateway/logs.py: the masking filter and formatter, exception text and stack
included) and keeps the lines that still hold a phone number, a T-code, a voucher ref or one of
the national IDs the tests register. Log files that the suite's subprocesses (`ors worker`)
write under pytest's temporary directory are read at the end of the session the same way.

Tests that log personal data on purpose go through the same formatter: that is the point.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from gateway.logs import LINE_FORMAT, masked

# What must never be readable in a log line, whatever logged it.
LEAKS: dict[str, re.Pattern[str]] = {
    "phone number": re.compile(
        r"(?<![\d+])(?:\+|%2B)\d{8,15}(?!\d)|\+\d{1,3}(?:[ .-]\d{2,4}){2,4}(?!\d)", re.IGNORECASE
    ),
    "T-code or phone (10 digits)": re.compile(r"(?<![\w+])\d{10}(?!\w)"),
    "T-code or phone in groups": re.compile(
        r"(?<![\w+])(?:\d{3}([ .-])\d{3}\1\d{4}|\d{4}([ .-])\d{3}\2\d{3}|\d{3}([ .-])\d{4}\3\d{3})(?!\w)"
    ),
    "voucher ref": re.compile(r"/v/[0-9A-Za-z]{11}(?![0-9A-Za-z])"),
    # The national IDs the tests register, in every spelling they use.
    "national ID": re.compile(
        r"(?<!\w)(?:K7Q[ -]?2938 ?4756|29384756|A1234567|12345678)(?!\w)", re.IGNORECASE
    ),
}
SHOWN = 30  # offending lines printed at the end; the count says how many more


@dataclass(frozen=True)
class Leak:
    where: str  # the test that was running, or the log file
    kind: str
    line: str


def leaks_in(text: str, where: str) -> list[Leak]:
    """The lines of `text` that hold personal data, one Leak per line (its first kind)."""
    found = []
    for line in text.splitlines():
        kind = next((k for k, pattern in LEAKS.items() if pattern.search(line)), None)
        if kind is not None:
            found.append(Leak(where, kind, line))
    return found


class LogAudit(logging.Handler):
    """A root handler that formats records as production does and keeps the leaking lines."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LINE_FORMAT))
        masked(self)
        self.leaks: list[Leak] = []
        self.lines = 0
        self._found = threading.Lock()

    def handle(self, record: logging.LogRecord) -> bool:
        # Mask a copy: the masking filter rewrites the record it sees, and the tests' own
        # handlers (caplog) must get the record exactly as the code under test logged it.
        return bool(super().handle(logging.makeLogRecord(record.__dict__)))

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        where = os.environ.get("PYTEST_CURRENT_TEST", "outside any test")
        found = leaks_in(text, where)
        with self._found:
            self.lines += text.count("\n") + 1
            self.leaks.extend(found)

    def install(self) -> None:
        """Listen on the root logger at production's level (INFO) or finer, for the session."""
        root = logging.getLogger()
        root.addHandler(self)
        if root.level > logging.INFO:
            root.setLevel(logging.INFO)

    def read_files(self, folder: Path) -> None:
        """Check the log files the suite's subprocesses wrote under `folder`."""
        for path in sorted(folder.rglob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")
            self.lines += text.count("\n")
            self.leaks.extend(leaks_in(text, str(path)))

    def report(self) -> list[str]:
        """The summary the session ends with when a line leaked."""
        if not self.leaks:
            return []
        lines = [
            f"{len(self.leaks)} of {self.lines} log lines hold personal data "
            "(gateway/logs.py masks them in production):"
        ]
        for leak in self.leaks[:SHOWN]:
            lines.append(f"  [{leak.kind}] {leak.where}\n      {leak.line.strip()[:300]}")
        if len(self.leaks) > SHOWN:
            lines.append(f"  … and {len(self.leaks) - SHOWN} more")
        return lines
