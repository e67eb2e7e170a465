"""Roles and what each may see: the one place that says who reaches which hospital."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["ministry", "admin", "desk", "doctor"]
ROLES: tuple[Role, ...] = ("ministry", "admin", "desk", "doctor")
# A second factor is required for the roles that can change a hospital's set-up or see many.
SECOND_FACTOR_REQUIRED: frozenset[str] = frozenset({"ministry", "admin"})


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member, as every console route sees them."""

    id: int
    email: str
    name: str
    role: Role
    hospital_code: str | None  # None: a ministry account (every hospital)
    doctor_code: str | None = None  # a doctor's own code, for their own day list

    def sees(self, hospital_code: str) -> bool:
        """True when this account may see anything of `hospital_code`."""
        return self.role == "ministry" or self.hospital_code == hospital_code.upper()

    @property
    def actor(self) -> str:
        """How the audit trail names the account."""
        return f"staff:{self.email}"


def needs_hospital(role: str) -> bool:
    return role != "ministry"
