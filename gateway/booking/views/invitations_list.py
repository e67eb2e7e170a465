"""Invitations as staff and the phone menus list them: a hospital's, or a phone's open ones.

Read only. Each row names the person by first name (a dependant's; None for the phone's
holder) and carries the department id, so a channel can name it from the catalogue cache in
its own form (GSM-7, sensitive departments hidden over voice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.persons import dependant_name
from gateway.booking.domain.states import InvitationStatus
from gateway.booking.models import Citizen, Department, Hospital, Invitation


@dataclass(frozen=True)
class ListedInvitation:
    ref: str
    status: str
    hospital: str  # hospital code
    department: str  # department code
    department_id: int
    person: str | None  # a dependant's first name; None for the phone's holder ("Me")
    phone: str
    window_from: date | None
    window_to: date | None
    expires_at: datetime  # hospital-local
    booking_ref: str | None
    created_by: str

    @property
    def last_day(self) -> date | None:
        """The last day a time can be chosen for: the window's, or the expiry's if earlier (an
        expiry at midnight closes the day before it); None for an invitation of one slot."""
        if self.window_to is None:
            return None
        return min(self.window_to, (self.expires_at - timedelta(microseconds=1)).date())


def invitations_of(
    session: Session,
    now: datetime,
    *,
    hospital_code: str | None = None,
    status: str | None = None,
    phone: str | None = None,
) -> list[ListedInvitation]:
    """A hospital's invitations (optionally of one status), or a phone's still open ones (every
    person of it; past their expiry counts as closed although the sweep has not run yet),
    soonest expiry first."""
    query = (
        select(Invitation)
        .join(Department, Department.id == Invitation.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .options(
            joinedload(Invitation.department).joinedload(Department.hospital),
            joinedload(Invitation.citizen),
            joinedload(Invitation.booking),
        )
        .order_by(Invitation.expires_at, Invitation.id)
    )
    if phone is not None:
        query = query.join(Citizen, Citizen.id == Invitation.citizen_id).where(
            Citizen.phone == phone,
            Invitation.status == InvitationStatus.OPEN.value,
            Invitation.expires_at > now,
        )
    if hospital_code is not None:
        query = query.where(Hospital.code == hospital_code)
    if status is not None:
        query = query.where(Invitation.status == status)
    return [_listed(i) for i in session.scalars(query).unique()]


def _listed(i: Invitation) -> ListedInvitation:
    hospital = i.department.hospital
    return ListedInvitation(
        ref=i.ref,
        status=i.status,
        hospital=hospital.code,
        department=i.department.code,
        department_id=i.department_id,
        person=dependant_name(i.citizen.name, i.citizen.guardian_id),
        phone=i.citizen.phone,
        window_from=i.window_from,
        window_to=i.window_to,
        expires_at=i.expires_at.astimezone(ZoneInfo(hospital.timezone)),
        booking_ref=i.booking.ref if i.booking else None,
        created_by=i.created_by,
    )
