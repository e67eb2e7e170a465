"""Tables of staff accounts, their console sessions and their failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.booking.models import Base


class StaffAccount(Base):
    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))  # domain.ROLES
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"), index=True)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None: not set up
    # The TOTP secret sealed with AES-GCM (gateway.staff.secrets); None: no second factor yet.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a code is used once
    recovery_hashes: Mapped[str | None] = mapped_column(String(1000))  # SHA-256s, space-separated
    setup_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)  # since the last good login
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class StaffSession(Base):
    """A console login: the cookie holds a random token, the row its SHA-256."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # "password": the password was right and the second factor is still to come.
    stage: Mapped[str] = mapped_column(String(16))
    # A second factor being enrolled: its secret, sealed, kept here rather than in the page.
    pending_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]  # the last request a person made (polls do not count)


class StaffLoginFailure(Base):
    """One wrong password or code for an e-mail from an address (throttling counts them).

    Keyed by a digest of the e-mail typed, not the account, so an e-mail with no account is
    throttled exactly like one with: the answers never tell which accounts exist."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (
        Index("ix_staff_login_failures_subject_at", "subject", "at"),
        Index("ix_staff_login_failures_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))  # SHA-256 of the lower-cased e-mail
    kind: Mapped[str] = mapped_column(String(8))  # "password" or "code"
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
