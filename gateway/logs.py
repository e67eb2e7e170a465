"""Logging set-up: phone numbers and national IDs masked, webhook tokens stripped."""

from __future__ import annotations

import logging
import re

PHONE = re.compile(r"(?<![\w+])(\+?\d{3,4})(\d{4,8})(\d{3})(?!\d)")
TOKEN = re.compile(r"([?&]token=)[^&\s\"']*", re.IGNORECASE)
ENCODED_PHONE = re.compile(r"(%2B\d{3,4})(\d{4,8})(\d{3})(?!\d)", re.IGNORECASE)


def mask(text: str) -> str:
    """Mask the middle of phone-like digit runs and drop `token=` values: `+2547•••••123`."""
    text = TOKEN.sub(r"\1•••", text)
    text = ENCODED_PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)
    return PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)


class MaskingFilter(logging.Filter):
    """Rewrite every record's final message through `mask` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, MaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("gunicorn.access", "gunicorn.error", "werkzeug", "rq.worker"):
        for h in logging.getLogger(name).handlers:
            h.addFilter(MaskingFilter())
