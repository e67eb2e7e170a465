"""Who may use a console route: the session, its CSRF token, the role and the hospital.

`staff_route(roles...)` wraps a view. In order: the console's own source networks
(`console.allowed_networks`, else 404), a full session (else the sign-in page), the hospital
of the URL (`<hospital>`: a staff member of another hospital gets 404, never a hint that it
exists), the role (403), and for any request that changes something the session's CSRF
token, from the form field `csrf_token` or the `X-CSRF-Token` header (400 without it). The
view finds the staff member in `g.staff`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, g, redirect, request, url_for

from gateway.staff.accounts import FULL, Current, StaffAccounts
from gateway.staff.roles import Role, Staff
from gateway.web.proxies import address, networks, within

COOKIE = "ors_console"
PRE_COOKIE = "ors_console_pre"  # the sign-in form's CSRF token, before there is a session
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
POLL_HEADER = "X-ORS-Poll"  # sent by the day list's own refreshes (static/day.js)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
View = TypeVar("View", bound=Callable[..., Any])


def accounts() -> StaffAccounts:
    return cast(StaffAccounts, current_app.extensions["ors"].staff)


def inside_allowed_networks() -> bool:
    allowed = current_app.extensions["ors"].settings.console_allowed_networks
    return not allowed or within(address(request.remote_addr), networks(allowed))


def current_session() -> Current | None:
    """This request's session, read once (any stage)."""
    if "console_session" not in g:
        # A page refreshing itself is not a person at work: it must not keep a session alive.
        person = request.headers.get(POLL_HEADER) is None
        g.console_session = accounts().current(request.cookies.get(COOKIE, ""), person)
    return cast(Current | None, g.console_session)


def staff_route(*roles: Role) -> Callable[[View], View]:
    """Let only `roles` (all when none are named) use the view, within their hospital."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not inside_allowed_networks():
                abort(404)
            session = current_session()
            if session is None or session.stage != FULL:
                if request.method in SAFE_METHODS:
                    # The path only: a query (a search for a phone) must not ride into logs.
                    return redirect(url_for("console.login", next=request.path))
                abort(401)
            hospital = kwargs.get("hospital")
            if hospital is not None and not session.staff.sees(str(hospital)):
                abort(404)
            if roles and session.staff.role not in roles:
                abort(403)
            if request.method not in SAFE_METHODS:
                check_csrf(session.csrf_token)
            g.staff, g.csrf_token = session.staff, session.csrf_token
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def check_csrf(expected: str) -> None:
    """Abort with 400 unless the request carries `expected` (form field or header)."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        abort(400)


def staff() -> Staff:
    return cast(Staff, g.staff)


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        secure=secure_cookies(),
        httponly=True,
        samesite="Strict",
        path="/console",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", secure=secure_cookies(), samesite="Strict")


def secure_cookies() -> bool:
    return str(current_app.extensions["ors"].settings.public_base_url).startswith("https://")


def page_headers(response: Response) -> Response:
    """The console's answers: its own CSP, never cached (they hold personal data)."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response
