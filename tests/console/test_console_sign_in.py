"""Signing in to the staff console: passwords, setup links, CSRF, throttling, sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.staff.models import StaffAccount
from tests.console.conftest import PASSWORD, Browser, enrolled


def test_a_desk_clerk_signs_in_and_out(browser: Browser) -> None:
    response: Any = browser.sign_in("desk@knh.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    page: Any = browser.get("/console/login")
    assert page.status_code == 302  # signed in already
    landing: Any = browser.client.get("/console/", follow_redirects=True)
    assert landing.request.path == "/console/KNH/day/2026-11-23"  # today's day list
    day: Any = browser.get(landing.request.path)  # its sign-out form holds the session's token
    assert day.status_code == 200
    out: Any = browser.post("/console/logout")
    assert out.status_code == 302
    assert browser.get("/console/").status_code == 302  # signed out


def test_a_post_without_its_csrf_token_is_refused(browser: Browser) -> None:
    browser.get("/console/login")
    refused: Any = browser.post(
        "/console/login", {"email": "desk@knh.example", "password": PASSWORD}, csrf=False
    )
    assert refused.status_code == 400
    browser.sign_in("desk@knh.example")
    assert browser.post("/console/logout", csrf=False).status_code == 400


def test_passwords_are_argon2id(staffed: Runtime) -> None:
    with staffed.reader() as s:
        stored = s.scalars(select(StaffAccount.password_hash)).all()
    assert stored and all(h and h.startswith("$argon2id$") for h in stored)


def test_six_wrong_passwords_stop_that_address_only(staffed: Runtime) -> None:
    app = create_app(runtime=staffed)
    here = Browser(app.test_client())
    for _ in range(6):
        wrong: Any = here.sign_in("desk@knh.example", "not the password at all")
    assert wrong.status_code == 429
    right: Any = here.sign_in("desk@knh.example")
    assert right.status_code == 429  # even the right password, from here, for 15 minutes
    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert elsewhere.sign_in("desk@knh.example").status_code == 302


def test_a_disabled_accounts_open_session_ends(browser: Browser, staffed: Runtime) -> None:
    browser.sign_in("desk@knh.example")
    staffed.staff.disable("desk@knh.example")
    assert browser.get("/console/").status_code == 302
    assert browser.sign_in("desk@knh.example").status_code == 401


def test_an_admin_enrols_a_second_factor_then_signs_in_with_it(
    admin_and_ministry: Runtime,
) -> None:
    app = create_app(runtime=admin_and_ministry)
    first = Browser(app.test_client())
    codes = enrolled(first, admin_and_ministry, "admin@knh.example")
    assert len(codes) == 10 and len(set(codes)) == 10
    with admin_and_ministry.reader() as s:
        row = s.scalars(select(StaffAccount).where(StaffAccount.role == "admin")).one()
    assert row.totp_sealed is not None and b"JBSW" not in row.totp_sealed  # sealed, not plain

    later = Browser(app.test_client())
    asked: Any = later.sign_in("admin@knh.example")
    assert asked.headers["Location"].startswith("/console/login")  # the code step
    page: Any = later.get("/console/login")
    assert 'name="otp"' in page.get_data(as_text=True)
    wrong: Any = later.post("/console/login", {"otp": "000000"})
    assert wrong.status_code == 401
    used: Any = later.post("/console/login", {"otp": codes[0]})  # a recovery code, once
    assert used.status_code == 302 and used.headers["Location"].endswith("/console/")
    again = Browser(app.test_client())
    again.sign_in("admin@knh.example")
    again.get("/console/login")
    assert again.post("/console/login", {"otp": codes[0]}).status_code == 401


def test_leaving_enrolment_half_done_never_blocks_signing_in(admin_and_ministry: Runtime) -> None:
    browser = Browser(create_app(runtime=admin_and_ministry).test_client())
    first: Any = browser.sign_in("admin@knh.example")
    assert first.headers["Location"].endswith("/console/enrol")  # left without enrolling
    again: Any = browser.sign_in("admin@knh.example")
    assert again.status_code == 302 and again.headers["Location"].endswith("/console/enrol")


def test_an_enrolment_secret_never_comes_from_the_page(admin_and_ministry: Runtime) -> None:
    import pyotp

    browser = Browser(create_app(runtime=admin_and_ministry).test_client())
    browser.sign_in("admin@knh.example")
    browser.get("/console/enrol")
    chosen = "A" * 32  # a secret the browser picked would be one the attacker knows
    code = pyotp.TOTP(chosen).at(admin_and_ministry.clock.now())
    refused: Any = browser.post("/console/enrol", {"secret": chosen, "otp": code})
    assert refused.status_code == 400
    with admin_and_ministry.reader() as s:
        row = s.scalars(select(StaffAccount).where(StaffAccount.role == "admin")).one()
    assert row.totp_sealed is None


def test_a_page_polling_by_itself_does_not_keep_the_session_alive(
    browser: Browser, staffed: Runtime
) -> None:
    from tests.clocks import clock_of

    browser.sign_in("desk@knh.example")
    rows = "/console/KNH/day/2026-11-23/rows"
    for _ in range(7):  # 35 minutes of a screen nobody touches
        clock_of(staffed).advance(minutes=5)
        browser.client.get(rows, headers={"X-ORS-Poll": "1"})
    assert browser.client.get(rows, headers={"X-ORS-Poll": "1"}).status_code == 302
