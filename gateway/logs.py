"""Logging set-up: nothing personal in any line, tracebacks included.

Phone numbers and T-codes (10 digits, plain or grouped as SMS show them) keep only their first
and last three digits; voucher links (`/v/<ref>`, a bearer capability) lose their ref; webhook
tokens are dropped. The masking covers the whole line a handler writes: the message, the
exception text (SQLAlchemy prints bound parameters there) and the stack.

National IDs need no pattern: the core hashes them before anything can log them, and errors
name the field, never its value (gateway/booking/operations/registration.py). A pattern for their bare
7–9 digit runs would also eat the message ids, counts and durations operators need.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TypeVar

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "ors"
# Loggers that write through handlers of their own (propagate=False), not through the root's.
FOREIGN_LOGGERS = ("gunicorn.access", "gunicorn.error", "werkzeug", "rq.worker", "rq.job")

TOKEN = re.compile(r"([?&]token=)[^&\s\"']*", re.IGNORECASE)
SPACED_PHONE = re.compile(r"\+\d{1,3}(?:[ \-.]\d{2,4}){2,4}(?!\d)")
ENCODED_PHONE = re.compile(r"(%2B\d{3,4})(\d{4,8})(\d{3})(?!\d)", re.IGNORECASE)
# A leading `+` marks a phone even glued to a word (`tel+2547…`); a bare run must stand alone,
# so digits inside identifiers (hex ids, provider ids) stay readable.
PLUS_PHONE = re.compile(r"(?<![\d+])(\+\d{3,4})(\d{4,8})(\d{3})(?!\d)")
PHONE = re.compile(r"(?<![\w+])(\+?\d{3,4})(\d{4,8})(\d{3})(?!\d)")
# Ten digits in three groups of 3 or 4 with one separator: `323 900 5395` (a T-code as SMS
# show it), `323-900-5395`, `0712 345 678`. Dates (4-2-2) and times never have this shape.
GROUPED_TEN = re.compile(r"(?<![\w+•])\d{3,4}([ .-])\d{3,4}\1\d{3,4}(?![\w•]|[.-]\d)")
# The console's search box: whatever was typed (phone digits, a T-code) in any spelling.
SEARCH_QUERY = re.compile(r"([?&]q=)[^&\s\"']*")
# A voucher's page, and a voice prompt's audio (its sealed link may say a T-code when played).
# A staff setup link sets an account's password: a bearer key until used.
VOUCHER_PATH = re.compile(r"(/v/|/voice/audio/|/console/setup/)[0-9A-Za-z_-]+")


def mask(text: str) -> str:
    """Mask phone numbers, T-codes, voucher refs and tokens: `+2547•••••123`, `/v/•••`."""
    text = TOKEN.sub(r"\1•••", text)
    text = VOUCHER_PATH.sub(r"\1•••", text)
    text = SEARCH_QUERY.sub(r"\1•••", text)
    text = SPACED_PHONE.sub(_mask_spaced, text)
    text = GROUPED_TEN.sub(_mask_grouped, text)
    text = ENCODED_PHONE.sub(_mask_run, text)
    text = PLUS_PHONE.sub(_mask_run, text)
    return PHONE.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    return match[1] + "•" * len(match[2]) + match[3]


def _mask_spaced(match: re.Match[str]) -> str:
    """`+254 712 345 678` → `+254 7•• ••• 678`: keep the country code and the last three digits."""
    return _hide_digits(match[0], keep_first=4)


def _mask_grouped(match: re.Match[str]) -> str:
    """`323 900 5395` → `323 ••• •395`: the digits a plain `3239005395` keeps, no more."""
    raw = match[0]
    if sum(ch.isdigit() for ch in raw) != 10:
        return raw  # 3-3-3 or 4-4-4: not a phone or T-code
    return _hide_digits(raw, keep_first=3)


def _hide_digits(raw: str, keep_first: int) -> str:
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    hidden = set(digits[keep_first:-3])
    return "".join("•" if i in hidden else ch for i, ch in enumerate(raw))


_TRACEBACKS = logging.Formatter()


class MaskingFilter(logging.Filter):
    """Mask every record's message, exception text and stack before any handler formats it.

    The record itself is rewritten (and its traceback formatted once, masked, into `exc_text`,
    which every Formatter reuses), so later handlers of the same record print it masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call: the formatter reports it through handleError
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class MaskingFormatter(logging.Formatter):
    """Run `mask` over the whole line another formatter writes: the last guard, for what a
    filter cannot see (a traceback cached unmasked by a handler that formatted it first)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return mask(self.inner.format(record))


H = TypeVar("H", bound=logging.Handler)


def masked(handler: H) -> H:
    """Make `handler` write masked lines (in its own format); idempotent."""
    if not any(isinstance(f, MaskingFilter) for f in handler.filters):
        handler.addFilter(MaskingFilter())
    if not isinstance(handler.formatter, MaskingFormatter):
        # A handler without a formatter writes the bare message (logging's default).
        handler.setFormatter(MaskingFormatter(handler.formatter or logging.Formatter()))
    return handler


def configure_logging(level: str = "INFO") -> None:
    """Log masked lines to stderr, and mask the handlers gunicorn, werkzeug and RQ set up.

    Gunicorn builds its handlers in the arbiter, before a worker loads the app (and so before
    `create_app` calls this), so they exist here; RQ adds its own only when the root has none.
    """
    root = logging.getLogger()
    if not any(h.get_name() == HANDLER_NAME for h in root.handlers):
        # The process's own stderr: a command run in-process (tests, click's runner) swaps
        # sys.stderr for a buffer it closes afterwards, which must not become the log's home.
        handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
        handler.setFormatter(logging.Formatter(LINE_FORMAT))
        masked(handler)
        handler.set_name(HANDLER_NAME)
        root.addHandler(handler)
    root.setLevel(level)
    for name in FOREIGN_LOGGERS:
        for foreign in logging.getLogger(name).handlers:
            masked(foreign)
