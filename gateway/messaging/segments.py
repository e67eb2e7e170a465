"""SMS segment counting for GSM-7 text (the only alphabet our templates use)."""

from __future__ import annotations

import math

from menus.gsm7 import is_gsm7_basic

SINGLE = 160  # septets in a message of one segment
PART = 153  # septets per segment of a concatenated message (7 go to the header)
UCS2_SINGLE, UCS2_PART = 70, 67


def count_segments(text: str) -> int:
    """Segments the text costs: 160/153 in GSM-7 basic, 70/67 when anything forces UCS-2."""
    single, part = (SINGLE, PART) if is_gsm7_basic(text) else (UCS2_SINGLE, UCS2_PART)
    length = len(text.encode("utf-16-le")) // 2 if single == UCS2_SINGLE else len(text)
    if length <= single:
        return 1
    return math.ceil(length / part)


def capacity(segments: int) -> int:
    """GSM-7 basic characters that fit in `segments` segments."""
    return SINGLE if segments == 1 else PART * segments
