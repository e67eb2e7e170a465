"""Refusals of the booking core: small named errors with a stable `code` and their facts.

Edges translate them: menus into a sentence in the caller's language, the kiosk API into a
JSON status and HTTP code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


class BookingError(Exception):
    code = "booking_error"

    def __init__(self, **facts: Any):
        self.facts = facts
        detail = ", ".join(f"{k}={v}" for k, v in facts.items())
        super().__init__(f"{self.code}({detail})" if detail else self.code)


class NotFound(BookingError):
    code = "not_found"


class SlotFull(BookingError):
    """No remote place left; `next_times` lists the next free starts of that department."""

    code = "slot_full"

    def __init__(self, next_times: list[datetime]):
        super().__init__(next_times=next_times)


class HoldExpired(BookingError):
    code = "hold_expired"


class LimitPerDay(BookingError):
    code = "limit_per_day"

    def __init__(self, limit: int):
        super().__init__(limit=limit)


class DepartmentSameDay(BookingError):
    code = "department_same_day"


class OutsideHorizon(BookingError):
    """The day is not released yet; `opens_at` says when it will be."""

    code = "outside_horizon"

    def __init__(self, opens_at: datetime):
        super().__init__(opens_at=opens_at)


class SlotStarted(BookingError):
    code = "slot_started"


class DeadlinePassed(BookingError):
    code = "deadline_passed"

    def __init__(self, deadline: datetime):
        super().__init__(deadline=deadline)


class Blocked(BookingError):
    code = "blocked"

    def __init__(self, until: date):
        super().__init__(until=until)


class NotOwner(BookingError):
    code = "not_owner"


class NotActive(BookingError):
    """The booking is no longer confirmed (cancelled, checked in, …)."""

    code = "not_active"

    def __init__(self, status: str):
        super().__init__(status=status)


class InvalidPhone(BookingError):
    code = "invalid_phone"


REFUSAL_CODES = tuple(sorted(cls.code for cls in BookingError.__subclasses__()))
