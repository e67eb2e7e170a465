"""Find a department by the codes staff type (hospital code, department code)."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from gateway.booking.domain.errors import NotFound
from gateway.booking.models import Department, Hospital
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

_BY_CODES = DriverStatement(
    select(Department.id)
    .join(Hospital, Hospital.id == Department.hospital_id)
    .where(Hospital.code == bindparam("hospital"), Department.code == bindparam("department"))
)


def department_id(db: Executor, hospital_code: str, department_code: str) -> int:
    """The id of the hospital's department; NotFound when either code names none."""
    found = _BY_CODES.run(db, {"hospital": hospital_code, "department": department_code})
    if not found.rows:
        raise NotFound(what="department")
    return int(found.scalar())
