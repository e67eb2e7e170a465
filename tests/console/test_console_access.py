"""Every console route × every role × own and other hospital: the answer each must get.

Staff of one hospital get 404 for anything of another (never a hint that it exists), a role a
route does not serve gets 403, nobody signed in is sent to sign in (or 401 for a POST), and a
POST without the session's CSRF token gets 400. The table must name every console route: a
new route that is not in it fails `test_the_table_names_every_console_route`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from tests.booking.conftest import at, slot_id
from tests.console.conftest import Browser, enrolled

DAY = "2026-11-23"
KNH_CALLER, MCH_CALLER = "+254700000071", "+254700000072"
# Callers of the desk's other bookings, per hospital: (late, missed, resend).
MORE_CALLERS = {
    "KNH": ("+254700000073", "+254700000074", "+254700000075"),
    "MCH": ("+254700000076", "+254700000077", "+254700000078"),
}
DEPARTMENT = {"KNH": "CARD", "MCH": "DEMO"}
# The sign-in pages themselves, open to anyone (tests/console/test_console_sign_in.py).
PUBLIC = frozenset({"console.login", "console.enrol", "console.setup", "console.logout"})
EVERYONE = ("ministry", "admin", "desk", "doctor")
STAFF_OFFICE = ("ministry", "admin", "desk")


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str  # {hospital}, {person}, {ref} are filled per hospital
    roles: tuple[str, ...] = EVERYONE
    ok: int = 200
    form: tuple[tuple[str, str], ...] = ()
    scoped: bool = True  # under /console/<hospital>/
    ministry_ok: int | None = None  # when a ministry account gets another success

    def url(self, facts: dict[str, str]) -> str:
        return self.path.format(**facts)


ROUTES = (
    # A hospital's staff go to their day list; a ministry officer picks a hospital first.
    Route("console.home", "GET", "/console/", ok=302, scoped=False, ministry_ok=200),
    Route("console.hospital", "GET", "/console/{hospital}/", ok=302),
    Route("console.day", "GET", f"/console/{{hospital}}/day/{DAY}"),
    Route("console.day_rows", "GET", f"/console/{{hospital}}/day/{DAY}/rows"),
    Route("console.day_csv_export", "GET", f"/console/{{hospital}}/day/{DAY}.csv"),
    Route(
        "console.day_phone",
        "POST",
        f"/console/{{hospital}}/day/{DAY}/phone",
        form=(("ref", "{ref}"),),
    ),
    # A doctor's own day list only: never every patient of the hospital.
    Route("console.search", "GET", "/console/{hospital}/search?q={ref}", STAFF_OFFICE, ok=302),
    Route("console.person", "GET", "/console/{hospital}/person/{person}", STAFF_OFFICE),
    # Desk actions: the desk's work, never a doctor's. Each acts on its own booking or person.
    Route(
        "console.desk_check_in",
        "POST",
        "/console/{hospital}/desk/check-in",
        STAFF_OFFICE,
        form=(("ref", "{ref}"),),
    ),
    Route(
        "console.desk_cancel_form",
        "GET",
        "/console/{hospital}/desk/cancel?ref={cancel_ref}",
        STAFF_OFFICE,
    ),
    Route(
        "console.desk_cancel",
        "POST",
        "/console/{hospital}/desk/cancel",
        STAFF_OFFICE,
        form=(("ref", "{cancel_ref}"), ("reason", "Clinic closed")),
    ),
    Route(
        "console.desk_unblock",
        "POST",
        "/console/{hospital}/person/{person}/unblock",
        STAFF_OFFICE,
        form=(("reason", "Explained the rules"),),
    ),
    Route(
        "console.desk_no_show_form",
        "GET",
        "/console/{hospital}/desk/no-show?ref={late_ref}",
        STAFF_OFFICE,
    ),
    Route(
        "console.desk_no_show",
        "POST",
        "/console/{hospital}/desk/no-show",
        STAFF_OFFICE,
        form=(("ref", "{late_ref}"), ("reason", "Not seen in the hall")),
    ),
    Route(
        "console.desk_undo_no_show_form",
        "GET",
        "/console/{hospital}/desk/undo-no-show?ref={missed_ref}",
        STAFF_OFFICE,
    ),
    Route(
        "console.desk_undo_no_show",
        "POST",
        "/console/{hospital}/desk/undo-no-show",
        STAFF_OFFICE,
        form=(("ref", "{missed_ref}"), ("reason", "Was in the pharmacy queue")),
    ),
    Route(
        "console.desk_resend",
        "POST",
        "/console/{hospital}/desk/resend",
        STAFF_OFFICE,
        form=(("ref", "{resend_ref}"),),
    ),
    Route(
        "console.desk_walk_in",
        "POST",
        "/console/{hospital}/desk/walk-in",
        STAFF_OFFICE,
        form=(("department", "{department}"),),
    ),
)
WHO = {
    "desk": ("desk@knh.example", "KNH"),
    "doctor": ("doctor@knh.example", "KNH"),
    "admin": ("admin@knh.example", "KNH"),
    "ministry": ("officer@health.example", None),
}


@pytest.fixture
def world(admin_and_ministry: Runtime) -> tuple[Flask, dict[str, dict[str, str]]]:
    """A booking at each hospital, on the doctor's own list at KNH; the facts each URL needs.

    The clock ends at Monday 08:35: the 08:00 booking has started (a desk may mark it a
    no-show), the 08:30 one is a no-show already (a desk may undo it), and walk-ins of today
    have places."""
    rt = admin_and_ministry
    knh = rt.booking.book(KNH_CALLER, slot_id(rt, "CARD", datetime(2026, 11, 23, 9)), "ussd")
    mch = rt.booking.book(
        MCH_CALLER, slot_id(rt, "DEMO", datetime(2026, 11, 23, 9), hospital="MCH"), "ussd"
    )
    facts = {}
    for code, made, phone in (("KNH", knh, KNH_CALLER), ("MCH", mch, MCH_CALLER)):
        [person] = [p for p in rt.booking.persons(phone) if p.me]
        later = rt.booking.book(phone, _tuesday_slot(rt, code), "ussd")  # for a desk to cancel
        _block(rt, person.id)  # for a desk to lift
        late_phone, missed_phone, resend_phone = MORE_CALLERS[code]
        late = rt.booking.book(late_phone, _monday_slot(rt, code, 8, 0), "ussd")
        missed = rt.booking.book(missed_phone, _monday_slot(rt, code, 8, 30), "ussd")
        resend = rt.booking.book(resend_phone, _tuesday_slot(rt, code, 10), "ussd")
        facts[code] = {
            "hospital": code, "ref": made.ref, "person": str(person.id), "cancel_ref": later.ref,
            "late_ref": late.ref, "missed_ref": missed.ref, "resend_ref": resend.ref,
            "department": DEPARTMENT[code],
        }  # fmt: skip
    at(rt, 2026, 11, 23, 8, 35)
    for code in facts:
        rt.booking.mark_no_show(facts[code]["missed_ref"], "staff:setup", "Not seen")
    return create_app(runtime=rt), facts


def _monday_slot(rt: Runtime, hospital: str, hour: int, minute: int) -> int:
    wall = datetime(2026, 11, 23, hour, minute)
    return slot_id(rt, DEPARTMENT[hospital], wall, hospital=hospital)


def _tuesday_slot(rt: Runtime, hospital: str, hour: int = 9) -> int:
    return slot_id(rt, DEPARTMENT[hospital], datetime(2026, 11, 24, hour), hospital=hospital)


def _block(rt: Runtime, person_id: int) -> None:
    with rt.writer() as s:
        s.get_one(Citizen, person_id).blocked_until = rt.clock.now() + timedelta(days=7)
        s.commit()


def signed_in(app: Flask, rt: Runtime, role: str) -> Browser:
    browser = Browser(app.test_client())
    email, _ = WHO[role]
    if role in ("admin", "ministry"):
        enrolled(browser, rt, email)
    else:
        browser.sign_in(email)
    page: Any = browser.get(f"/console/KNH/day/{DAY}")  # any page: its forms carry the token
    assert page.status_code == 200
    return browser


def expected(route: Route, role: str | None, hospital: str) -> int:
    if role is None:
        return 302 if route.method == "GET" else 401
    own = WHO[role][1]
    if route.scoped and own is not None and own != hospital:
        return 404
    if role not in route.roles:
        return 403
    if role == "ministry" and route.ministry_ok is not None:
        return route.ministry_ok
    return route.ok


def answer(browser: Browser, route: Route, facts: dict[str, str], csrf: bool = True) -> int:
    url = route.url(facts)
    if route.method == "GET":
        return int(browser.client.get(url).status_code)
    form = {k: v.format(**facts) for k, v in route.form}
    if csrf:
        form["csrf_token"] = browser.csrf
    return int(browser.client.post(url, data=form).status_code)


def test_the_table_names_every_console_route(world: tuple[Flask, Any]) -> None:
    app, _ = world
    console = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("console.") and r.endpoint != "console.static"
    }
    assert console - PUBLIC == {r.endpoint for r in ROUTES}


@pytest.mark.parametrize("role", [None, *WHO])
def test_every_route_answers_each_role_at_each_hospital(
    world: tuple[Flask, dict[str, dict[str, str]]], admin_and_ministry: Runtime, role: str | None
) -> None:
    app, facts = world
    browser = (
        Browser(app.test_client()) if role is None else signed_in(app, admin_and_ministry, role)
    )
    got, wanted = {}, {}
    for route in ROUTES:
        for hospital in ("KNH", "MCH"):
            key = f"{route.method} {route.url(facts[hospital])}"
            got[key] = answer(browser, route, facts[hospital])
            wanted[key] = expected(route, role, hospital)
    assert got == wanted


@pytest.mark.parametrize("role", list(WHO))
def test_a_post_without_the_csrf_token_is_refused(
    world: tuple[Flask, dict[str, dict[str, str]]], admin_and_ministry: Runtime, role: str
) -> None:
    app, facts = world
    browser = signed_in(app, admin_and_ministry, role)
    # A role a route does not serve gets 403 first (the matrix above); the rest need the token.
    for route in (r for r in ROUTES if r.method != "GET" and role in r.roles):
        assert answer(browser, route, facts["KNH"], csrf=False) == 400, route.endpoint


def test_an_account_of_another_hospital_learns_nothing_from_the_404(
    world: tuple[Flask, dict[str, dict[str, str]]], admin_and_ministry: Runtime
) -> None:
    """The other hospital's real person and a made-up one answer alike."""
    app, facts = world
    browser = Browser(app.test_client())
    browser.sign_in("desk@mch.example")
    real: Any = browser.client.get(f"/console/KNH/person/{facts['KNH']['person']}")
    made_up: Any = browser.client.get("/console/KNH/person/999999")
    unknown: Any = browser.client.get(f"/console/NOPE/day/{DAY}")
    assert real.status_code == made_up.status_code == unknown.status_code == 404
    assert real.get_data() == made_up.get_data()
