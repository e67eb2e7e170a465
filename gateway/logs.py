"""Logging set-up: phone numbers (and T-codes, which look alike) masked, webhook tokens stripped.

National IDs are never logged: the booking core keeps only their HMAC.
"""

from __future__ import annotations

import logging
import re

PHONE = re.compile(r"(?<![\w+])(\+?\d{3,4})(\d{4,8})(\d{3})(?!\d)")
TOKEN = re.compile(r"([?&]token=)[^&\s\"']*", re.IGNORECASE)
SPACED_PHONE = re.compile(r"\+\d{1,3}(?:[ \-.]\d{2,4}){2,4}(?!\d)")
ENCODED_PHONE = re.compile(r"(%2B\d{3,4})(\d{4,8})(\d{3})(?!\d)", re.IGNORECASE)


def mask(text: str) -> str:
    """Mask the middle of phone-like digit runs and drop `token=` values: `+2547•••••123`."""
    text = TOKEN.sub(r"\1•••", text)
    text = SPACED_PHONE.sub(_mask_spaced, text)
    text = ENCODED_PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)
    return PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)


def _mask_spaced(match: re.Match[str]) -> str:
    """`+254 712 345 678` → `+254 7•• ••• 678`: keep the country code and the last three digits."""
    raw = match[0]
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    hidden = set(digits[4:-3])
    return "".join("•" if i in hidden else ch for i, ch in enumerate(raw))


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
