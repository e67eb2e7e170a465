"""Staff accounts: add, list, disable, reset; set a password from a setup link; sign in.

Signing in is two steps for an account with a second factor: the password opens a session of
stage "password", which can only send the code; the code (or a recovery code) turns it into
a full session under a new token. Failures are throttled per account *and* source address: 5
from one address within 15 minutes stop that address for that account (nobody elsewhere can
lock a clerk out), and after 50 since the last good login the password alone no longer opens
the account (its second factor is needed, or an admin's reset).
"""

from __future__ import annotations

import ipaddress
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
ADDRESS_FAILURES, ADDRESS_WINDOW = 5, timedelta(minutes=15)  # per e-mail and address
SPRAY_FAILURES = 30  # per address, whatever the e-mail: no hashing flood, no spraying
CODE_FAILURES = 10  # wrong codes per account in the window, from anywhere
ACCOUNT_FAILURES = 50  # since the last good sign-in: the password alone no longer opens it
LIFETIME = timedelta(hours=12)  # a session ends then, however busy
TOUCH_EVERY = timedelta(minutes=1)  # the idle clock is written at most this often
FULL, PASSWORD = "full", "password"  # session stages
_TOTP_LABEL, _PENDING_LABEL = b"totp", b"pending totp"


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
            subject = digest(_email(email))
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
            db.execute(delete(FAILURES).where(FAILURES.c.subject == subject))
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
        """Check the password; open a session (full, or waiting for the code).

        An unknown, disabled or locked e-mail answers exactly as a wrong password, after the
        same hashing time, and counts toward the same throttles: nothing tells which accounts
        exist or whether a guess was right."""
        now, email = self.clock.now(), _email(email)
        subject = digest(email)
        with self.engine.begin() as db:
            self._throttle(db, subject, address, now)
            row = db.execute(
                select(ACCOUNTS).where(ACCOUNTS.c.email == email).with_for_update()
            ).first()
            outcome = self._password_step(db, row, subject, password, address, now)
        if isinstance(outcome, StaffError):
            raise outcome  # after the commit: the failure is counted
        return outcome

    def _password_step(
        self,
        db: Connection,
        row: Row[Any] | None,
        subject: str,
        password: str,
        address: str,
        now: datetime,
    ) -> Opened | StaffError:
        usable = row is not None and row.password_hash is not None and row.disabled_at is None
        locked = usable and row is not None and row.failures >= ACCOUNT_FAILURES
        if usable and locked and row is not None and row.totp_sealed is None:
            usable = False  # the password alone no longer opens it: an admin's reset does
        if not usable or row is None:
            passwords.verify(passwords.decoy(), password)  # the same time as a real check
            self._failed(db, subject, "password", address, now, None)
            return _wrong()
        if not passwords.verify(row.password_hash, password):
            self._failed(db, subject, "password", address, now, row.id)
            return _wrong()
        if passwords.needs_rehash(row.password_hash):
            new_hash = passwords.hash_password(password)
            db.execute(
                update(ACCOUNTS).where(ACCOUNTS.c.id == row.id).values(password_hash=new_hash)
            )
        if row.totp_sealed is not None:
            return Opened(self._open(db, row.id, PASSWORD, now), True, False)
        self._signed_in(db, row.id, now)
        needs_enrolment = row.role in SECOND_FACTOR_REQUIRED
        stage = PASSWORD if needs_enrolment else FULL
        return Opened(self._open(db, row.id, stage, now), False, needs_enrolment)

    def second_factor(self, session_token: str, code: str, address: str) -> str:
        """Check a TOTP or recovery code for a session waiting for one; return the token of
        the full session that replaces it. Wrong codes count per e-mail and address like
        wrong passwords, and per account from anywhere: after CODE_FAILURES the waiting
        sessions end, so a six-digit code cannot be guessed from many addresses."""
        now = self.clock.now()
        with self.engine.begin() as db:
            session = _session_row(db, session_token)
            if session is None or session.stage != PASSWORD:
                raise StaffError("no_session", "sign in again")
            row = db.execute(
                select(ACCOUNTS).where(ACCOUNTS.c.id == session.account_id).with_for_update()
            ).one()
            subject = digest(row.email)
            self._throttle(db, subject, address, now)
            outcome = self._code_step(db, row, subject, session_token, code, address, now)
        if isinstance(outcome, StaffError):
            raise outcome  # after the commit: the failure is counted
        return outcome

    def _code_step(
        self,
        db: Connection,
        row: Row[Any],
        subject: str,
        session_token: str,
        code: str,
        address: str,
        now: datetime,
    ) -> str | StaffError:
        if self._code_matches(db, row, code, now):
            db.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(session_token)))
            self._signed_in(db, row.id, now)
            return self._open(db, row.id, FULL, now)
        self._failed(db, subject, "code", address, now, row.id)
        wrong_codes = db.scalar(
            select(func.count())
            .select_from(FAILURES)
            .where(
                FAILURES.c.subject == subject,
                FAILURES.c.kind == "code",
                FAILURES.c.at > now - ADDRESS_WINDOW,
            )
        )
        if (wrong_codes or 0) >= CODE_FAILURES:
            db.execute(
                delete(SESSIONS).where(
                    SESSIONS.c.account_id == row.id, SESSIONS.c.stage == PASSWORD
                )
            )
            return StaffError("throttled", "too many wrong codes: sign in again in 15 minutes")
        return StaffError("wrong_code", "that code is not right")

    def start_enrolment(self, session_token: str) -> str:
        """A new TOTP secret for the enrolment page, kept sealed in the session (never taken
        back from the page); only an account without a second factor may enrol one (a lost
        or replaced phone goes through an administrator's reset)."""
        secret = totp.new_secret()
        with self.engine.begin() as db:
            session = _session_row(db, session_token)
            if session is None or self._has_factor(db, session.account_id):
                raise StaffError("no_session", "sign in again")
            sealed = self.sealer.seal(secret.encode("ascii"), _PENDING_LABEL)
            db.execute(
                update(SESSIONS)
                .where(SESSIONS.c.token_hash == digest(session_token))
                .values(pending_sealed=sealed)
            )
        return secret

    def enrol(self, session_token: str, code: str) -> tuple[str, list[str]]:
        """Confirm the session's pending second factor with its first code; return the full
        session's token and the recovery codes to show once."""
        now = self.clock.now()
        codes = totp.new_recovery_codes()
        with self.engine.begin() as db:
            session = _session_row(db, session_token)
            if session is None or self._has_factor(db, session.account_id):
                raise StaffError("no_session", "sign in again")
            opened = (
                self.sealer.open(session.pending_sealed, _PENDING_LABEL)
                if session.pending_sealed
                else None
            )
            if opened is None:
                raise StaffError("no_session", "sign in again")
            secret = opened.decode("ascii")
            step = totp.matching_step(secret, code, now, None)
            if step is None:
                raise StaffError("wrong_code", "that code is not right: check the phone's clock")
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
            self._signed_in(db, session.account_id, now)
            return self._open(db, session.account_id, FULL, now), codes

    def pending_secret(self, session_token: str) -> str | None:
        """The secret being enrolled in this session (shown again after a wrong code)."""
        with self.engine.connect() as db:
            session = _session_row(db, session_token)
        sealed = session.pending_sealed if session is not None else None
        opened = self.sealer.open(sealed, _PENDING_LABEL) if sealed else None
        return opened.decode("ascii") if opened else None

    def _has_factor(self, db: Connection, account_id: int) -> bool:
        found = db.scalar(select(ACCOUNTS.c.totp_sealed).where(ACCOUNTS.c.id == account_id))
        return found is not None

    # --- sessions ----------------------------------------------------------------------------

    def current(self, session_token: str, activity: bool = True) -> Current | None:
        """The session's staff member, or None (unknown, idle too long, older than its
        lifetime, account disabled). A person's request (`activity`) starts the idle clock
        again; a page polling by itself does not, so an unattended screen signs out."""
        if not session_token:
            return None
        now = self.clock.now()
        h, d = Hospital.__table__, Doctor.__table__
        query = (
            select(
                SESSIONS.c.csrf_token,
                SESSIONS.c.stage,
                SESSIONS.c.last_seen_at,
                SESSIONS.c.created_at.label("session_created_at"),
                ACCOUNTS,
                h.c.code.label("hospital_code"),
                d.c.code.label("doctor_code"),
            )
            .select_from(SESSIONS.join(ACCOUNTS, ACCOUNTS.c.id == SESSIONS.c.account_id))
            .outerjoin(h, h.c.id == ACCOUNTS.c.hospital_id)
            .outerjoin(d, d.c.id == ACCOUNTS.c.doctor_id)
            .where(SESSIONS.c.token_hash == digest(session_token))
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        if row is None:
            return None
        expired = row.last_seen_at + IDLE < now or row.session_created_at + LIFETIME < now
        if row.disabled_at is not None or expired:
            self.sign_out(session_token)
            return None
        if activity and row.last_seen_at + TOUCH_EVERY < now:
            # Written at most once a minute: most requests only read (SQLite's one writer).
            with self.engine.begin() as db:
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

    def _throttle(self, db: Connection, subject: str, address: str, now: datetime) -> None:
        """Refuse before any hashing: 5 failures for this e-mail from this address, or 30
        from this address whatever the e-mail, within 15 minutes."""
        since, where = now - ADDRESS_WINDOW, _address(address)
        recent = FAILURES.c.at > since
        by_address = (
            select(func.count()).select_from(FAILURES).where(FAILURES.c.address == where, recent)
        )
        mine = by_address.where(FAILURES.c.subject == subject)
        if (db.scalar(mine) or 0) >= ADDRESS_FAILURES or (
            db.scalar(by_address) or 0
        ) >= SPRAY_FAILURES:
            raise StaffError(
                "throttled", "too many failed sign-ins from here: try again in 15 minutes"
            )

    def _failed(
        self,
        db: Connection,
        subject: str,
        kind: str,
        address: str,
        now: datetime,
        account_id: int | None,
    ) -> None:
        db.execute(
            insert(FAILURES).values(subject=subject, kind=kind, address=_address(address), at=now)
        )
        if account_id is not None:
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
        # Failures older than the window count for nothing any more.
        db.execute(delete(FAILURES).where(FAILURES.c.at < now - ADDRESS_WINDOW))
        db.execute(delete(SESSIONS).where(SESSIONS.c.last_seen_at < now - IDLE))

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
    # The same answer for an unknown, disabled or locked e-mail as for a wrong password.
    return StaffError(
        "wrong_password",
        "wrong e-mail or password (after many failed sign-ins, ask an administrator for a reset)",
    )


def _address(address: str) -> str:
    """The address failures are counted by: an IPv6 address by its /64 (one subscriber gets
    a whole /64, so counting single addresses would count nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


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
