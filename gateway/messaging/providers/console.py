"""The demo's provider: keeps what it "sends" in memory and writes it to the log.

The log line masks the phone number, one-time codes, T-codes and the voucher link's ref: a log
is read by more people, and kept longer, than the phone the message was meant for.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass

from gateway.logs import mask
from gateway.messaging.redaction import for_log

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleMessage:
    id: str
    to: str
    body: str


class ConsoleProvider:
    name = "console"

    def __init__(self, keep: int = 1000):
        self.sent: deque[ConsoleMessage] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send(self, to: str, body: str) -> str:
        message = ConsoleMessage(id=f"console-{uuid.uuid4().hex}", to=to, body=body)
        with self._lock:
            self.sent.append(message)
        # Masked at the source too: a logging set-up without our handlers (a library's, a
        # test's) would otherwise print the phone number and the voucher link whole.
        log.info("SMS to %s: %s", mask(to), mask(for_log(body)))
        return message.id
