"""Segment counting: GSM-7 160/153, UCS-2 70/67 (a part of a long SMS carries a header)."""

from __future__ import annotations

import pytest

from gateway.messaging.segments import capacity, count_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("Ж" * 70, 1),  # one non-GSM character makes the whole message UCS-2
        ("Ж" * 71, 2),
        ("Ж" * 134, 2),
        ("Ж" * 135, 3),
        ("a" * 69 + "“", 1),
        ("a" * 70 + "“", 2),
    ],
)
def test_segments(text: str, segments: int) -> None:
    assert count_segments(text) == segments


@pytest.mark.parametrize(("segments", "characters"), [(1, 160), (2, 306), (3, 459)])
def test_capacity(segments: int, characters: int) -> None:
    assert capacity(segments) == characters
