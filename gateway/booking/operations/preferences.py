"""A citizen's own settings: the menus' language and whether reminders and notices are sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from gateway.booking.models import Citizen
from gateway.booking.sql.citizens import lock_row

CITIZENS = Citizen.__table__


def set_language(db: Connection, phone: str, language: str, now: datetime) -> None:
    """Remember the language the phone's holder chose (created on first contact)."""
    citizen = lock_row(db, phone, now)
    db.execute(update(CITIZENS).where(CITIZENS.c.id == citizen.id).values(language=language))


def set_reminders(db: Connection, phone: str, enabled: bool, now: datetime) -> None:
    """Switch the phone holder's reminders and notices on or off (SMS START / STOP)."""
    citizen = lock_row(db, phone, now)
    values = {"reminders_opt_out": not enabled}
    db.execute(update(CITIZENS).where(CITIZENS.c.id == citizen.id).values(**values))
