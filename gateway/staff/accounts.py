"""Staff accounts: add, list, disable, reset; set a password from a setup link; sign in.

Signing in is two steps for an account with a second factor: the password opens a session of
stage "password", which can only send the code; the code (or a recovery code) turns it into
a full session under a new token. Failures are throttled per account *and* source address: 5
from one address within 15 minutes stop that address for that account (nobody elsewhere can
lock a clerk out), and after 50 since the last good login the password alone no longer opens
the account (its second factor is needed, or an admin's reset).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update

from gateway.booking.models import Doctor, Hospital
from gateway.clock import Clock
from gateway.staff import passwords
from gateway.staff import second_factor as totp
from gateway.staff.models import StaffAccount, StaffLoginFailure, StaffSession
from gateway.staff.roles import ROLES, SECOND_FACTOR_REQUIRED, Role, Staff, needs_hospital
from gateway.staff.secrets import Sealer, digest, token

ACCOUNTS, SESSIONS = StaffAccount.__table__, StaffSession.__table__
FAILURES = StaffLoginFailure.__table__
SETUP_VALID = timedelta(hours=24)
IDLE = timedelta(minutes=30)
ADDRESS_FAILURES, ADDRESS_WINDOW = 5, timedelta(minutes=15)
ACCOUNT_FAILURES = 50
FULL, PASSWORD = "full", "password"  # session stages
_TOTP_LABEL = b"totp"


class StaffError(ValueError):
    """A staff operation refused; `code` is stable, the message a sentence for a person."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code, self.detail = code, detail  # detail: why, as a code (a weak password's)


@dataclass(frozen=True)
class Listed:
    email: str
    name: str
    role: str
    hospital_code: str | None
    doctor_code: str | None
    second_factor: bool
    state: str  # "active", "setup pending", "disabled"
    last_login_at: datetime | None


@dataclass(frozen=True)
class Opened:
    """A session opened by a sign-in step: the cookie's token, and whether a code is due."""

    token: str
    needs_code: bool
    needs_enrolment: bool  # a role that requires a second factor has none yet


@dataclass(frozen=True)
class Current:
    staff: Staff
    csrf_token: str
    stage: str
    has_second_factor: bool


class StaffAccounts:
    def __init__(self, engine: Engine, clock: Clock, sealer: Sealer) -> None:
        self.engine, self.clock, self.sealer = engine, clock, sealer

    # --- administration (ors staff ...) ------------------------------------------------------

    def add(
        self,
        email: str,
        name: str,
        role: str,
        hospital_code: str | None = None,
        doctor_code: str | None = None,
        password: str | None = None,
    ) -> str | None:
        """Create an account; return its setup token (None when `password` was given)."""
        email, name = _email(email), " ".join(name.split())
        if role not in ROLES:
            raise StaffError("invalid_role", f"role must be one of {', '.join(ROLES)}")
        if not name:
            raise StaffError("invalid_name", "give the person's name")
        if needs_hospital(role) != bool(hospital_code):
            need = "needs --hospital" if needs_hospital(role) else "covers every hospital"
            raise StaffError("invalid_hospital", f"a {role} account {need}")
        if (role == "doctor") != bool(doctor_code):
            raise StaffError("invalid_doctor", "a doctor account, and only one, names --doctor")
        if password is not None:
            _check_password(password, email)
        now = self.clock.now()
        with self.engine.begin() as db:
            hospital_id = _hospital_id(db, hospital_code) if hospital_code else None
            doctor_id = _doctor_id(db, hospital_id, doctor_code) if doctor_code else None
            if db.scalar(select(ACCOUNTS.c.id).where(ACCOUNTS.c.email == email)) is not None:
                raise StaffError("email_in_use", f"{email} has an account already")
            setup = None if password is not None else token()
            db.execute(
                insert(ACCOUNTS).values(
                    email=email,
                    name=name,
                    role=role,
                    hospital_id=hospital_id,
                    doctor_id=doctor_id,
                    password_hash=passwords.hash_password(password) if password else None,
                    setup_hash=digest(setup) if setup else None,
                    setup_expires_at=now + SETUP_VALID if setup else None,
                    failures=0,
                    created_at=now,
                )
            )
        return setup

    def listing(self) -> list[Listed]:
        h, d = Hospital.__table__, Doctor.__table__
        query = (
            select(ACCOUNTS, h.c.code.label("hospital_code"), d.c.code.label("doctor_code"))
            .select_from(ACCOUNTS.outerjoin(h, h.c.id == ACCOUNTS.c.hospital_id))
            .outerjoin(d, d.c.id == ACCOUNTS.c.doctor_id)
            .order_by(h.c.code.nulls_first(), ACCOUNTS.c.email)
        )
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [
            Listed(
                r.email,
                r.name,
                r.role,
                r.hospital_code,
                r.doctor_code,
                r.totp_sealed is not None,
                "disabled"
                if r.disabled_at
                else ("setup pending" if r.password_hash is None else "active"),
                r.last_login_at,
            )
            for r in rows
        ]

    def disable(self, email: str) -> None:
        """Disable an account and end its sessions at once."""
        with self.engine.begin() as db:
            account_id = _account_id(db, email)
            db.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == account_id)
                .values(disabled_at=self.clock.now(), setup_hash=None, setup_expires_at=None)
            )
            db.execute(delete(SESSIONS).where(SESSIONS.c.account_id == account_id))

    def enable(self, email: str) -> None:
        """Let a disabled account sign in again (a reset first if its owner forgot)."""
        with self.engine.begin() as db:
            account_id = _account_id(db, email)
            db.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(disabled_at=None))

    def reset(self, email: str) -> str:
        """A new setup link for a forgotten password or a lost phone: the password, the second
        factor and the recovery codes go, sessions end, the failure count starts again. A
        disabled account stays disabled (its link then sets nothing)."""
        setup, now = token(), self.clock.now()
        with self.engine.begin() as db:
            account_id = _account_id(db, email)
            db.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == account_id)
                .values(
                    password_hash=None,
                    totp_sealed=None,
                    totp_last_step=None,
                    recovery_hashes=None,
                    setup_hash=digest(setup),
                    setup_expires_at=now + SETUP_VALID,
                    failures=0,
                )
            )
            db.execute(delete(SESSIONS).where(SESSIONS.c.account_id == account_id))
            db.execute(delete(FAILURES).where(FAILURES.c.account_id == account_id))
        return setup

    # --- setting up and signing in -----------------------------------------------------------

    def setup_account(self, setup: str, password: str) -> str:
        """Set the password of the account a setup link names; return its e-mail."""
        now = self.clock.now()
        with self.engine.begin() as db:
            row = db.execute(
                select(ACCOUNTS).where(ACCOUNTS.c.setup_hash == digest(setup)).with_for_update()
            ).first()
            if row is None or row.setup_expires_at is None or row.setup_expires_at < now:
                raise StaffError("setup_expired", "this link has expired: ask for a new one")
            if row.disabled_at is not None:
                raise StaffError("setup_expired", "this account is disabled")
            _check_password(password, row.email)
            db.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == row.id)
                .values(
                    password_hash=passwords.hash_password(password),
                    setup_hash=None,
                    setup_expires_at=None,
                )
            )
            return str(row.email)

    def sign_in(self, email: str, password: str, address: str) -> Opened:
        """Check the password; open a session (full, or waiting for the code)."""
        now = self.clock.now()
        with self.engine.begin() as db:
            row = db.execute(select(ACCOUNTS).where(ACCOUNTS.c.email == _email(email))).first()
            if row is None or row.password_hash is None or row.disabled_at is not None:
                passwords.verify(passwords.decoy(), password)  # the same time as a real check
                raise _wrong()
            self._throttle(db, row.id, address, now)
            right = passwords.verify(row.password_hash, password)
            if not right:
                self._failed(db, row.id, address, now)  # kept: the error is raised after commit
        if not right:
            raise _wrong()
        with self.engine.begin() as db:
            has_factor = row.totp_sealed is not None
            if row.failures >= ACCOUNT_FAILURES and not has_factor:
                raise StaffError(
                    "locked", "too many failed sign-ins: ask an administrator for a reset"
                )
            if passwords.needs_rehash(row.password_hash):
                new_hash = passwords.hash_password(password)
                db.execute(
                    update(ACCOUNTS).where(ACCOUNTS.c.id == row.id).values(password_hash=new_hash)
                )
            if has_factor:
                return Opened(self._open(db, row.id, PASSWORD, now), True, False)
            self._signed_in(db, row.id, now)
            needs_enrolment = row.role in SECOND_FACTOR_REQUIRED
            stage = PASSWORD if needs_enrolment else FULL
            return Opened(self._open(db, row.id, stage, now), False, needs_enrolment)

    def second_factor(self, session_token: str, code: str, address: str) -> str:
        """Check a TOTP or recovery code for a session waiting for one; return the token of
        the full session that replaces it."""
        now = self.clock.now()
        with self.engine.begin() as db:
            session = _session_row(db, session_token)
            if session is None or session.stage != PASSWORD:
                raise StaffError("no_session", "sign in again")
            row = db.execute(
                select(ACCOUNTS).where(ACCOUNTS.c.id == session.account_id).with_for_update()
            ).one()
            self._throttle(db, row.id, address, now)
            matched = self._code_matches(db, row, code, now)
            if not matched:
                self._failed(db, row.id, address, now)  # kept: the error is raised after commit
        if not matched:
            raise StaffError("wrong_code", "that code is not right")
        with self.engine.begin() as db:
            db.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token)))
            self._signed_in(db, row.id, now)
            return self._open(db, row.id, FULL, now)

    def start_enrolment(self) -> str:
        """A new TOTP secret for the enrolment page (kept in the page until confirmed)."""
        return totp.new_secret()

    def enrol(self, session_token: str, secret: str, code: str) -> tuple[str, list[str]]:
        """Confirm a second factor with its first code; return the full session's token and
        the recovery codes to show once."""
        now = self.clock.now()
        step = totp.matching_step(secret, code, now, None)
        if step is None:
            raise StaffError("wrong_code", "that code is not right: check the phone's clock")
        codes = totp.new_recovery_codes()
        with self.engine.begin() as db:
            session = _session_row(db, session_token)
            if session is None:
                raise StaffError("no_session", "sign in again")
            # A session that still owes its code must not swap the second factor for one of
            # its own: the password alone would then be enough.
            enrolled = db.scalar(
                select(ACCOUNTS.c.totp_sealed).where(ACCOUNTS.c.id == session.account_id)
            )
            if session.stage != FULL and enrolled is not None:
                raise StaffError("no_session", "sign in again")
            sealed = self.sealer.seal(secret.encode("ascii"), _TOTP_LABEL)
            db.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == session.account_id)
                .values(
                    totp_sealed=sealed,
                    totp_last_step=step,
                    recovery_hashes=" ".join(totp.recovery_digest(c) for c in codes),
                )
            )
            db.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token)))
            return self._open(db, session.account_id, FULL, now), codes

    # --- sessions ----------------------------------------------------------------------------

    def current(self, session_token: str) -> Current | None:
        """The session's staff member, or None (unknown, idle too long, account disabled);
        a live session's idle clock starts again."""
        if not session_token:
            return None
        now = self.clock.now()
        h, d = Hospital.__table__, Doctor.__table__
        query = (
            select(
                SESSIONS.c.csrf_token,
                SESSIONS.c.stage,
                SESSIONS.c.last_seen_at,
                ACCOUNTS,
                h.c.code.label("hospital_code"),
                d.c.code.label("doctor_code"),
            )
            .select_from(SESSIONS.join(ACCOUNTS, ACCOUNTS.c.id == SESSIONS.c.account_id))
            .outerjoin(h, h.c.id == ACCOUNTS.c.hospital_id)
            .outerjoin(d, d.c.id == ACCOUNTS.c.doctor_id)
            .where(SESSIONS.c.token_hash == digest(session_token))
        )
        with self.engine.begin() as db:
            row = db.execute(query).first()
            if row is None:
                return None
            if row.disabled_at is not None or row.last_seen_at + IDLE < now:
                db.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token)))
                return None
            db.execute(
                update(SESSIONS)
                .where(SESSIONS.c.token_hash == digest(session_token))
                .values(last_seen_at=now)
            )
        role: Role = row.role
        staff = Staff(row.id, row.email, row.name, role, row.hospital_code, row.doctor_code)
        return Current(staff, row.csrf_token, row.stage, row.totp_sealed is not None)

    def sign_out(self, session_token: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token)))

    # --- inside ------------------------------------------------------------------------------

    def _open(self, db: Connection, account_id: int, stage: str, now: datetime) -> str:
        opened = token()
        db.execute(
            insert(SESSIONS).values(
                token_hash=digest(opened),
                account_id=account_id,
                csrf_token=token(),
                stage=stage,
                created_at=now,
                last_seen_at=now,
            )
        )
        return opened

    def _throttle(self, db: Connection, account_id: int, address: str, now: datetime) -> None:
        recent = db.scalar(
            select(func.count())
            .select_from(FAILURES)
            .where(
                FAILURES.c.account_id == account_id,
                FAILURES.c.address == address[:64],
                FAILURES.c.at > now - ADDRESS_WINDOW,
            )
        )
        if (recent or 0) >= ADDRESS_FAILURES:
            raise StaffError(
                "throttled", "too many failed sign-ins from here: try again in 15 minutes"
            )

    def _failed(self, db: Connection, account_id: int, address: str, now: datetime) -> None:
        db.execute(insert(FAILURES).values(account_id=account_id, address=address[:64], at=now))
        db.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.id == account_id)
            .values(failures=ACCOUNTS.c.failures + 1)
        )

    def _signed_in(self, db: Connection, account_id: int, now: datetime) -> None:
        db.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.id == account_id)
            .values(failures=0, last_login_at=now)
        )
        # Old failures are no use once the right person got in; the window is 15 minutes.
        db.execute(delete(FAILURES).where(FAILURES.c.at < now - ADDRESS_WINDOW))

    def _code_matches(self, db: Connection, row: Row[Any], code: str, now: datetime) -> bool:
        sealed = row.totp_sealed
        secret = self.sealer.open(sealed, _TOTP_LABEL) if sealed else None
        if secret is not None:
            last = row.totp_last_step
            step = totp.matching_step(secret.decode("ascii"), code, now, last)
            if step is not None:
                db.execute(
                    update(ACCOUNTS).where(ACCOUNTS.c.id == row.id).values(totp_last_step=step)
                )
                return True
        kept = (row.recovery_hashes or "").split()
        typed = totp.recovery_digest(code)
        if any(secrets.compare_digest(typed, h) for h in kept):
            left = " ".join(h for h in kept if h != typed)
            db.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == row.id).values(recovery_hashes=left))
            return True
        return False


def _email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or len(cleaned) > 254 or any(c.isspace() for c in cleaned):
        raise StaffError("invalid_email", f"not an e-mail address: {email!r}")
    return cleaned


def _check_password(password: str, email: str) -> None:
    try:
        passwords.check_new(password, email)
    except passwords.WeakPassword as weak:
        message = f"choose another password: {weak}"
        raise StaffError("weak_password", message, weak.reason) from None


def _wrong() -> StaffError:
    return StaffError("wrong_password", "wrong e-mail or password")


def _hospital_id(db: Connection, code: str) -> int:
    found = db.scalar(
        select(Hospital.__table__.c.id).where(Hospital.__table__.c.code == code.upper())
    )
    if found is None:
        raise StaffError("unknown_hospital", f"no hospital {code!r} (`ors catalog show`)")
    return int(found)


def _doctor_id(db: Connection, hospital_id: int | None, code: str) -> int:
    d = Doctor.__table__
    found = db.scalar(
        select(d.c.id).where(d.c.hospital_id == hospital_id, d.c.code == code.upper())
    )
    if found is None:
        raise StaffError("unknown_doctor", f"no doctor {code!r} at that hospital")
    return int(found)


def _account_id(db: Connection, email: str) -> int:
    found = db.scalar(select(ACCOUNTS.c.id).where(ACCOUNTS.c.email == _email(email)))
    if found is None:
        raise StaffError("unknown_account", f"no account {email!r} (`ors staff list`)")
    return int(found)


def _session_row(db: Connection, session_token: str) -> Row[Any] | None:
    return db.execute(
        select(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token))
    ).first()
