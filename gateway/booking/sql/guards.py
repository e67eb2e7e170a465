"""SQL guards built from the lifecycles of `gateway.booking.domain.states`.

A transition is one conditional UPDATE whose WHERE names the statuses the operation may start
from, so two racing writers cannot both move a row, and a move the table lacks is never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import QueryableAttribute

from gateway.booking.domain.states import Lifecycle

# A Core column or a mapped attribute (Booking.status): both compare into a WHERE clause.
Column = ColumnElement[Any] | QueryableAttribute[Any]


def in_states(column: Column, states: Iterable[str]) -> ColumnElement[bool]:
    """`column` is one of `states`: an OR of equalities, since the driver compiles no IN."""
    return or_(*(column == str(state) for state in sorted(states)))


def may(column: Column, lifecycle: Lifecycle[Any], operation: str) -> ColumnElement[bool]:
    """The WHERE guard of `operation`: the row is in a status the operation may start from."""
    return in_states(column, lifecycle.sources(operation))


def value(state: StrEnum) -> str:
    """The stored text of a status (StrEnum members are str; this says so at the call)."""
    return str(state)
