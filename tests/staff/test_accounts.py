"""StaffAccounts on the test runtime (both backends): stored hashes, the TOTP enrolment and
sign-in steps, one-time codes, the 50-failure lock, setup links' 24 hours, reset and disable."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select, update

from gateway.runtime import Runtime
from gateway.staff.accounts import ACCOUNT_FAILURES, ACCOUNTS, FULL, StaffAccounts, StaffError
from gateway.staff.models import StaffAccount
from gateway.staff.second_factor import RECOVERY_CODES
from tests.clocks import clock_of

PASSWORD = "correct horse battery staple"
ADMIN, CLERK = "admin@knh.example", "clerk@knh.example"
HERE = "10.0.0.1"


def refused(code: str) -> pytest.RaisesExc[StaffError]:
    """Expect a StaffError with this stable code."""
    return pytest.raises(StaffError, check=lambda e: e.code == code)


def now_code(rt: Runtime, secret: str) -> str:
    return pyotp.TOTP(secret).at(rt.clock.now())


def enrolled_admin(rt: Runtime) -> tuple[str, str, list[str]]:
    """An admin who enrolled a second factor: its secret, its full session, its recovery codes."""
    rt.staff.add(ADMIN, "Wanjiku Mwangi", "admin", "KNH", password=PASSWORD)
    opened = rt.staff.sign_in(ADMIN, PASSWORD, HERE)
    secret = rt.staff.start_enrolment(opened.token)
    full, codes = rt.staff.enrol(opened.token, now_code(rt, secret))
    return secret, full, codes


def stored(rt: Runtime, email: str) -> StaffAccount:
    with rt.reader() as s:
        found = s.scalars(select(StaffAccount).where(StaffAccount.email == email)).one()
        s.expunge(found)
        return found


def code_step(rt: Runtime, email: str = ADMIN) -> str:
    """A session of `email` that waits for its code, after the right password."""
    opened = rt.staff.sign_in(email, PASSWORD, HERE)
    assert opened.needs_code and not opened.needs_enrolment
    return opened.token


def test_the_password_is_stored_as_argon2id(catalog: Runtime) -> None:
    catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH", password=PASSWORD)
    row = stored(catalog, CLERK)
    assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


@pytest.mark.parametrize(
    "role, hospital, doctor, needs_enrolment",
    [
        ("ministry", None, None, True),
        ("admin", "KNH", None, True),
        ("desk", "KNH", None, False),
        ("doctor", "KNH", "D001", False),
    ],
)
def test_roles_that_need_a_second_factor_are_sent_to_enrolment(
    catalog: Runtime, role: str, hospital: str | None, doctor: str | None, needs_enrolment: bool
) -> None:
    catalog.staff.add(CLERK, "Mary Njeri", role, hospital, doctor, password=PASSWORD)
    opened = catalog.staff.sign_in(CLERK, PASSWORD, HERE)
    assert (opened.needs_code, opened.needs_enrolment) == (False, needs_enrolment)
    current = catalog.staff.current(opened.token)
    assert current is not None
    assert (current.stage == FULL) is not needs_enrolment  # enrolment first, then the console


def test_enrolment_gives_a_full_session_and_ten_recovery_codes(catalog: Runtime) -> None:
    _, full, codes = enrolled_admin(catalog)
    current = catalog.staff.current(full)
    assert current is not None and current.stage == FULL and current.has_second_factor
    assert len(set(codes)) == RECOVERY_CODES
    row = stored(catalog, ADMIN)
    assert row.totp_sealed is not None
    assert all(code not in (row.recovery_hashes or "") for code in codes)  # only their hashes


def test_a_wrong_first_code_does_not_enrol(catalog: Runtime) -> None:
    catalog.staff.add(ADMIN, "Wanjiku Mwangi", "admin", "KNH", password=PASSWORD)
    opened = catalog.staff.sign_in(ADMIN, PASSWORD, HERE)
    secret = catalog.staff.start_enrolment(opened.token)
    wrong = f"{(int(now_code(catalog, secret)) + 1) % 1_000_000:06d}"
    with refused("wrong_code"):
        catalog.staff.enrol(opened.token, wrong)
    assert stored(catalog, ADMIN).totp_sealed is None


def test_the_code_step_cannot_enrol_a_second_factor_of_its_own(catalog: Runtime) -> None:
    enrolled_admin(catalog)
    waiting = code_step(catalog)
    with refused("no_session"):  # else the password alone would get in
        catalog.staff.start_enrolment(waiting)
    with refused("no_session"):
        catalog.staff.enrol(waiting, "123456")


def test_a_totp_code_works_once(catalog: Runtime) -> None:
    secret, _, _ = enrolled_admin(catalog)
    clock_of(catalog).advance(seconds=30)
    code = now_code(catalog, secret)
    full = catalog.staff.second_factor(code_step(catalog), code, HERE)
    assert catalog.staff.current(full) is not None
    with refused("wrong_code"):  # the same code again: a replay
        catalog.staff.second_factor(code_step(catalog), code, HERE)
    clock_of(catalog).advance(seconds=30)
    assert catalog.staff.second_factor(code_step(catalog), now_code(catalog, secret), HERE)


def test_the_enrolment_code_cannot_sign_in_again(catalog: Runtime) -> None:
    secret, _, _ = enrolled_admin(catalog)
    with refused("wrong_code"):
        catalog.staff.second_factor(code_step(catalog), now_code(catalog, secret), HERE)


def test_each_recovery_code_works_once(catalog: Runtime) -> None:
    _, _, codes = enrolled_admin(catalog)
    first, second = codes[0], codes[1]
    assert catalog.staff.second_factor(code_step(catalog), first.upper(), HERE)  # as typed
    with refused("wrong_code"):
        catalog.staff.second_factor(code_step(catalog), first, HERE)
    assert catalog.staff.second_factor(code_step(catalog), second.replace("-", ""), HERE)
    kept = (stored(catalog, ADMIN).recovery_hashes or "").split()
    assert len(kept) == RECOVERY_CODES - 2


def fail_to(rt: Runtime, email: str, failures: int) -> None:
    """Bring the account to `failures` - 1 failed sign-ins, then fail once more through the API
    from an address of its own (the per-address throttle is another rule)."""
    with rt.engine.begin() as db:
        db.execute(update(ACCOUNTS).where(ACCOUNTS.c.email == email).values(failures=failures - 1))
    with refused("wrong_password"):
        rt.staff.sign_in(email, "not the password at all", "10.9.9.9")
    assert stored(rt, email).failures == failures


def test_after_50_failures_the_password_alone_isrefused(catalog: Runtime) -> None:
    catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH", password=PASSWORD)
    fail_to(catalog, CLERK, ACCOUNT_FAILURES - 1)
    assert catalog.staff.sign_in(CLERK, PASSWORD, HERE).needs_code is False  # 49: still fine
    fail_to(catalog, CLERK, ACCOUNT_FAILURES)
    # The same answer as a wrong password: a locked account never confirms a right guess.
    with refused("wrong_password"):
        catalog.staff.sign_in(CLERK, PASSWORD, HERE)


def test_after_50_failures_a_second_factor_still_gets_in(catalog: Runtime) -> None:
    secret, _, _ = enrolled_admin(catalog)
    fail_to(catalog, ADMIN, ACCOUNT_FAILURES)
    clock_of(catalog).advance(seconds=30)
    full = catalog.staff.second_factor(code_step(catalog), now_code(catalog, secret), HERE)
    assert catalog.staff.current(full) is not None
    assert stored(catalog, ADMIN).failures == 0  # a good sign-in starts the count again


@pytest.mark.parametrize("hours, works", [(23.99, True), (24.01, False)])
def test_a_setup_link_works_for_24_hours(catalog: Runtime, hours: float, works: bool) -> None:
    setup = catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH")
    assert setup is not None
    clock_of(catalog).advance(hours=hours)
    if works:
        assert catalog.staff.setup_account(setup, PASSWORD) == CLERK
        assert catalog.staff.sign_in(CLERK, PASSWORD, HERE)
    else:
        with refused("setup_expired"):
            catalog.staff.setup_account(setup, PASSWORD)


def test_a_setup_link_works_once(catalog: Runtime) -> None:
    setup = catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH")
    assert setup is not None
    catalog.staff.setup_account(setup, PASSWORD)
    with refused("setup_expired"):
        catalog.staff.setup_account(setup, "another good passphrase")


def test_reset_clears_password_second_factor_and_sessions(catalog: Runtime) -> None:
    _, full, codes = enrolled_admin(catalog)
    setup = catalog.staff.reset(ADMIN)
    row = stored(catalog, ADMIN)
    assert (row.password_hash, row.totp_sealed, row.recovery_hashes) == (None, None, None)
    assert catalog.staff.current(full) is None
    with refused("wrong_password"):
        catalog.staff.sign_in(ADMIN, PASSWORD, HERE)
    catalog.staff.setup_account(setup, "another good passphrase")
    opened = catalog.staff.sign_in(ADMIN, "another good passphrase", HERE)
    assert (opened.needs_code, opened.needs_enrolment) == (False, True)  # enrols again
    with refused("wrong_code"):  # the old recovery codes went with the old factor
        catalog.staff.second_factor(opened.token, codes[0], HERE)


def test_disable_ends_sessions_and_sign_ins(catalog: Runtime) -> None:
    staff: StaffAccounts = catalog.staff
    staff.add(CLERK, "Mary Njeri", "desk", "KNH", password=PASSWORD)
    session = staff.sign_in(CLERK, PASSWORD, HERE).token
    staff.disable(CLERK)
    assert staff.current(session) is None
    with refused("wrong_password"):  # the same answer as a wrong password: nothing confirmed
        staff.sign_in(CLERK, PASSWORD, HERE)


def test_production_hashes_use_rfc_9106s_low_memory_argon2id() -> None:
    from argon2 import extract_parameters

    from gateway.staff import passwords

    stored = passwords.PRODUCTION_HASHER.hash("correct horse battery staple")
    found = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (found.memory_cost, found.time_cost, found.parallelism) == (65536, 3, 4)
    assert passwords.PRODUCTION_HASHER.verify(stored, "correct horse battery staple")


def test_an_unknown_e_mail_answers_and_is_throttled_like_a_known_one(catalog: Runtime) -> None:
    catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH", password=PASSWORD)
    answers = {}
    for email in (CLERK, "nobody@knh.example"):
        seen = []
        for _ in range(6):
            try:
                catalog.staff.sign_in(email, "not the password at all", "10.1.1.1")
            except StaffError as error:
                seen.append(error.code)
        answers[email] = seen
    assert answers[CLERK] == answers["nobody@knh.example"] == ["wrong_password"] * 5 + ["throttled"]


def test_one_address_spraying_many_e_mails_is_stopped(catalog: Runtime) -> None:
    codes = []
    for n in range(31):
        try:
            catalog.staff.sign_in(f"guess{n}@knh.example", "not the password at all", "10.2.2.2")
        except StaffError as error:
            codes.append(error.code)
    assert codes[:30] == ["wrong_password"] * 30 and codes[30] == "throttled"


def test_wrong_codes_from_many_addresses_end_the_waiting_sessions(catalog: Runtime) -> None:
    enrolled_admin(catalog)
    waiting = code_step(catalog)
    for n in range(9):
        with refused("wrong_code"):
            catalog.staff.second_factor(waiting, "000000", f"10.3.0.{n}")
    with refused("throttled"):
        catalog.staff.second_factor(waiting, "000000", "10.3.0.99")
    with refused("no_session"):  # the waiting session is gone
        catalog.staff.second_factor(waiting, "000000", "10.3.0.100")


def test_an_ipv6_subscriber_is_one_address(catalog: Runtime) -> None:
    catalog.staff.add(CLERK, "Mary Njeri", "desk", "KNH", password=PASSWORD)
    for n in range(5):
        with refused("wrong_password"):
            catalog.staff.sign_in(CLERK, "not the password at all", f"2001:db8:1:2::{n + 1:x}")
    with refused("throttled"):
        catalog.staff.sign_in(CLERK, PASSWORD, "2001:db8:1:2::ffff")
