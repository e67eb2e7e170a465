"""Signing in: `/console/login` (e-mail and password, then the code when the account has a
second factor), `/console/enrol` (a first second factor, required for ministry and admin),
`/console/setup/<token>` (choosing a password from a setup link) and `/console/logout`.

Before there is a session the forms carry a token that must match a cookie of the same
request's browser (double submit), so another site cannot sign a clerk in as someone else.
Every sign-in opens a new session token; a code turns the password's session into a new one.
"""

from __future__ import annotations

import base64
import io
import secrets
from typing import Any

import qrcode
from flask import Response, abort, make_response, redirect, render_template, request, url_for
from qrcode.image.pil import PilImage

from gateway.console import bp, texts
from gateway.console.guard import (
    CSRF_FIELD,
    PRE_COOKIE,
    accounts,
    check_csrf,
    clear_session_cookie,
    current_session,
    inside_allowed_networks,
    page_headers,
    secure_cookies,
    set_session_cookie,
)
from gateway.staff import second_factor
from gateway.staff.accounts import FULL, PASSWORD, StaffError
from gateway.staff.secrets import token


@bp.before_request
def _network() -> None:
    if not inside_allowed_networks():
        abort(404)


@bp.after_request
def _headers(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in texts.LANGUAGES:
        response.set_cookie(
            texts.LANGUAGE_COOKIE, lang, secure=secure_cookies(), samesite="Strict", path="/console"
        )
    return page_headers(response)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    session = current_session()
    if session is not None and session.stage == FULL:
        return redirect(_next())  # type: ignore[return-value]
    waiting = session is not None and session.stage == PASSWORD and session.has_second_factor
    if request.method == "GET":
        notice = "setup_done" if request.args.get("notice") == "setup_done" else None
        return _page("console/login.html", code_step=waiting, notice=notice)
    if waiting:
        assert session is not None
        check_csrf(session.csrf_token)
        try:
            full = accounts().second_factor(_cookie(), request.form.get("otp", ""), _address())
        except StaffError as refused:
            return _page("console/login.html", code_step=True, error=refused.code, status=401)
        return _signed_in(full, _next())
    _check_pre_csrf()
    try:
        opened = accounts().sign_in(
            request.form.get("email", ""), request.form.get("password", ""), _address()
        )
    except StaffError as refused:
        status = 429 if refused.code == "throttled" else 401
        return _page("console/login.html", code_step=False, error=refused.code, status=status)
    if opened.needs_code:
        return _signed_in(opened.token, url_for("console.login", next=_next()))
    if opened.needs_enrolment:
        return _signed_in(opened.token, url_for("console.enrol"))
    return _signed_in(opened.token, _next())


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Response:
    session = current_session()
    if session is None:
        return redirect(url_for("console.login"))  # type: ignore[return-value]
    if request.method == "GET":
        try:
            secret = accounts().start_enrolment(_cookie())
        except StaffError:
            return redirect(url_for("console.login"))  # type: ignore[return-value]
        return _enrol_page(secret, session.staff.email)
    check_csrf(session.csrf_token)
    try:
        full, codes = accounts().enrol(_cookie(), request.form.get("otp", ""))
    except StaffError as refused:
        if refused.code != "wrong_code":
            return redirect(url_for("console.login"))  # type: ignore[return-value]
        # The same secret again (it is kept in the session), with the error.
        secret = accounts().pending_secret(_cookie()) or ""
        return _enrol_page(secret, session.staff.email, error=refused.code, status=400)
    response = _page("console/recovery.html", codes=codes, next=_next())
    set_session_cookie(response, full)
    return response


@bp.route("/setup/<setup>", methods=["GET", "POST"])
def setup(setup: str) -> Response:
    if request.method == "GET":
        return _page("console/setup.html", setup=setup)
    _check_pre_csrf()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _page("console/setup.html", setup=setup, error="passwords_differ", status=400)
    try:
        accounts().setup_account(setup, password)
    except StaffError as refused:
        why = f"weak.{refused.detail}" if refused.detail else None
        return _page("console/setup.html", setup=setup, error=refused.code, why=why, status=400)
    return redirect(url_for("console.login", notice="setup_done"))  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    session = current_session()
    if session is not None:
        check_csrf(session.csrf_token)
        accounts().sign_out(_cookie())
    response = make_response(redirect(url_for("console.login")))
    clear_session_cookie(response)
    return response


# --- inside -----------------------------------------------------------------------------------


def _page(template: str, status: int = 200, **values: Any) -> Response:
    """Render a sign-in page. Its form carries the token its POST checks: the session's on
    the steps that have one (the code, enrolment), else the pre-session one of the cookie
    set here (the password, a setup link), whatever other session the browser still has."""
    session = current_session()
    pre = request.cookies.get(PRE_COOKIE) or token()
    session_step = session is not None and (
        template == "console/enrol.html" or values.get("code_step")
    )
    csrf = session.csrf_token if session is not None and session_step else pre
    body = render_template(
        template, t=texts.texts(), lang=texts.language(), csrf_token=csrf, **values
    )
    response = make_response(body, status)
    response.set_cookie(
        PRE_COOKIE, pre, secure=secure_cookies(), httponly=True, samesite="Strict", path="/console"
    )
    return response


def _enrol_page(secret: str, email: str, error: str | None = None, status: int = 200) -> Response:
    uri = second_factor.enrolment_uri(secret, email)
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=PilImage, box_size=6, border=2).save(buffer)
    qr = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return _page("console/enrol.html", status, secret=secret, qr=qr, error=error)


def _check_pre_csrf() -> None:
    expected = request.cookies.get(PRE_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        abort(400)


def _signed_in(session_token: str, target: str) -> Response:
    response = make_response(redirect(target))
    set_session_cookie(response, session_token)
    return response


def _cookie() -> str:
    from gateway.console.guard import COOKIE

    return request.cookies.get(COOKIE, "")


def _address() -> str:
    return request.remote_addr or "unknown"


def _next() -> str:
    """Where to go after signing in: a path of this console only (never another site)."""
    target = request.args.get("next", "")
    if target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.home")
