"""Desk actions, `/console/<hospital>/desk/...`: check a booking in, cancel it with a reason,
lift a person's block, mark a no-show or undo a mistaken one (with a reason), send a voucher's
SMS again, and take in a walk-in (a queue number for a person without a booking).

Each action goes through the booking core's own operation with the staff member as the actor,
so it lands in the audit trail in the same transaction. The booking or person must belong to
the hospital of the URL (the reads of the person page decide): anything else is 404, the same
answer as a made-up reference. Each POST answers with a page saying what happened (the check-in
with the queue number, on a slip that prints), or why not in a sentence (409).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, make_response, render_template, request, url_for

from gateway.booking.domain.errors import BookingError, NotFound
from gateway.booking.domain.states import BookingStatus
from gateway.booking.views.person_page import PersonBooking, person_page
from gateway.booking.views.person_search import person_of_ref
from gateway.console import bp, desk_words, texts
from gateway.console.guard import staff, staff_route
from gateway.runtime import Runtime
from gateway.staff.roles import Role

# Acting on bookings is the desk's work; a doctor only reads their own list.
ROLES: tuple[Role, ...] = ("desk", "admin", "ministry")
LONGEST_REF = 32
# A staff cancellation's reason is sent to the citizen in the SMS: one short sentence.
LONGEST_REASON = 160
REFUSED = 409


@bp.post("/<hospital>/desk/check-in")
@staff_route(*ROLES)
def desk_check_in(hospital: str) -> Response:
    code = hospital.upper()
    ref, _ = _booking_here(code, request.form.get("ref", ""))
    try:
        ticket = _runtime().booking.desk_check_in(ref, actor=staff().actor)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused)
    return _render(
        "console/desk_ticket.html", hospital=code, ref=ref, ticket=ticket, back=_form_back(code)
    )


@bp.get("/<hospital>/desk/cancel")
@staff_route(*ROLES)
def desk_cancel_form(hospital: str) -> Response:
    code = hospital.upper()
    ref, booking = _booking_here(code, request.args.get("ref", ""))
    return _reason_form("cancel", code, ref, booking, _back(code, request.args.get("back")))


@bp.post("/<hospital>/desk/cancel")
@staff_route(*ROLES)
def desk_cancel(hospital: str) -> Response:
    code = hospital.upper()
    ref, booking = _booking_here(code, request.form.get("ref", ""))
    reason, problem = _reason()
    if problem:
        back = _back(code, request.form.get("back"))
        return _reason_form("cancel", code, ref, booking, back, reason, problem, status=422)
    try:
        done = _runtime().booking.cancel(ref, by="staff", reason=reason, actor=staff().actor)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused)
    notice = texts.texts()["desk.cancelled"].format(
        ref=done.ref, at=done.starts_at.strftime("%Y-%m-%d %H:%M")
    )
    return _render("console/desk_done.html", hospital=code, notice=notice, back=_form_back(code))


@bp.post("/<hospital>/person/<int:person_id>/unblock")
@staff_route(*ROLES)
def desk_unblock(hospital: str, person_id: int) -> Response:
    code, runtime = hospital.upper(), _runtime()
    with runtime.reader() as session:
        if person_page(session, code, person_id, runtime.clock.now()) is None:
            abort(404)  # never booked here: the same answer as no such person
    reason, problem = _reason()
    if problem:
        return _render(
            "console/desk_done.html", status=422, hospital=code, error=problem,
            back=_form_back(code),
        )  # fmt: skip
    try:
        runtime.booking.unblock_person(person_id, by=staff().actor, reason=reason)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused)
    notice = texts.texts()["desk.unblocked"]
    return _render("console/desk_done.html", hospital=code, notice=notice, back=_form_back(code))


# What each reason form asks: the action it posts to, and its words (texts.py `desk.<key>_*`).
# The actions that ask a reason first, and where their form posts (console/desk_reason.html).
REASON_FORMS = {
    "cancel": "console.desk_cancel",
    "no_show": "console.desk_no_show",
    "undo_no_show": "console.desk_undo_no_show",
}


@bp.get("/<hospital>/desk/no-show")
@staff_route(*ROLES)
def desk_no_show_form(hospital: str) -> Response:
    code = hospital.upper()
    ref, booking = _booking_here(code, request.args.get("ref", ""))
    return _reason_form("no_show", code, ref, booking, _back(code, request.args.get("back")))


@bp.post("/<hospital>/desk/no-show")
@staff_route(*ROLES)
def desk_no_show(hospital: str) -> Response:
    """Mark a booking whose slot has started a no-show now, as the sweep would later."""
    code = hospital.upper()
    ref, booking = _booking_here(code, request.form.get("ref", ""))
    reason, problem = _reason()
    if problem:
        back = _back(code, request.form.get("back"))
        return _reason_form("no_show", code, ref, booking, back, reason, problem, status=422)
    try:
        done = _runtime().booking.mark_no_show(ref, actor=staff().actor, reason=reason)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused, "mark_no_show")
    notice = texts.texts()["desk.no_show_marked"].format(
        ref=done.ref, at=done.starts_at.strftime("%Y-%m-%d %H:%M")
    )
    return _render("console/desk_done.html", hospital=code, notice=notice, back=_form_back(code))


@bp.get("/<hospital>/desk/undo-no-show")
@staff_route(*ROLES)
def desk_undo_no_show_form(hospital: str) -> Response:
    code = hospital.upper()
    ref, booking = _booking_here(code, request.args.get("ref", ""))
    back = _back(code, request.args.get("back"))
    return _reason_form("undo_no_show", code, ref, booking, back)


@bp.post("/<hospital>/desk/undo-no-show")
@staff_route(*ROLES)
def desk_undo_no_show(hospital: str) -> Response:
    """Undo a mistaken no-show: the notice says whether the booking may still check in or
    ended cancelled (its check-in window closed), the block it caused lifted either way."""
    code = hospital.upper()
    ref, booking = _booking_here(code, request.form.get("ref", ""))
    reason, problem = _reason()
    if problem:
        back = _back(code, request.form.get("back"))
        return _reason_form("undo_no_show", code, ref, booking, back, reason, problem, 422)
    try:
        done = _runtime().booking.undo_no_show(ref, actor=staff().actor, reason=reason)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused, "undo_no_show")
    again = done.status == BookingStatus.CONFIRMED
    key = "desk.no_show_undone" if again else "desk.no_show_excused"
    notice = texts.texts()[key].format(ref=done.ref)
    return _render("console/desk_done.html", hospital=code, notice=notice, back=_form_back(code))


@bp.post("/<hospital>/desk/resend")
@staff_route(*ROLES)
def desk_resend(hospital: str) -> Response:
    """Text a booking's voucher to its phone again: the same SMS, the same T-code."""
    code = hospital.upper()
    ref, _ = _booking_here(code, request.form.get("ref", ""))
    try:
        done = _runtime().booking.resend_voucher(ref, actor=staff().actor)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused, "resend_voucher")
    notice = texts.texts()["desk.resent"].format(ref=done.ref)
    return _render("console/desk_done.html", hospital=code, notice=notice, back=_form_back(code))


@bp.post("/<hospital>/desk/walk-in")
@staff_route(*ROLES)
def desk_walk_in(hospital: str) -> Response:
    """A person without a booking, in the department's walk-in places of today: the core
    registers a nameless person (the desk never turns the sick away for want of a name) and
    checks them in at once, so the answer is the queue slip."""
    code = hospital.upper()
    department = request.form.get("department", "").strip().upper()[:LONGEST_REF]
    if not department:
        abort(404)  # no department: the same answer as one not of this hospital
    try:
        walked = _runtime().booking.walk_in(code, department, actor=staff().actor)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _refused(code, refused, "walk_in")
    return _render(
        "console/desk_ticket.html", hospital=code, ref=walked.ref, ticket=walked.ticket,
        back=_form_back(code), walk_in=True,
    )  # fmt: skip


# --- inside -----------------------------------------------------------------------------------


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["ors"]
    return runtime


def _booking_here(code: str, typed: str) -> tuple[str, PersonBooking]:
    """The booking `typed` names at the hospital, as the person page shows it; else 404."""
    ref, runtime = typed.strip().upper()[:LONGEST_REF], _runtime()
    with runtime.reader() as session:
        person_id = person_of_ref(session, code, ref) if ref else None
        page = None if person_id is None else person_page(
            session, code, person_id, runtime.clock.now()
        )  # fmt: skip
    found = next((b for b in page.bookings if b.ref == ref), None) if page else None
    if found is None:
        abort(404)
    return ref, found


def _reason() -> tuple[str, str | None]:
    """The form's reason, and the sentence saying what is wrong with it (None: nothing)."""
    reason = " ".join(request.form.get("reason", "").split())
    t = texts.texts()
    if not reason:
        return reason, t["desk.reason_missing"]
    if len(reason) > LONGEST_REASON:
        return reason, t["desk.reason_too_long"].format(most=LONGEST_REASON)
    return reason, None


def _back(code: str, asked: str | None) -> str:
    """Where the action came from: a page of this hospital's console, else its start page.

    Only a path inside `/console/<hospital>/` is taken, so the link never leads elsewhere.
    """
    prefix = url_for("console.hospital", hospital=code)
    if asked and asked.startswith(prefix) and "//" not in asked and "\\" not in asked:
        return asked
    return prefix


def _form_back(code: str) -> str:
    return _back(code, request.form.get("back"))


def _reason_form(
    action: str, code: str, ref: str, booking: PersonBooking, back: str, reason: str = "",
    problem: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    """The page asking an action's reason: a cancellation's is told to the citizen by SMS,
    a no-show action's kept in the audit trail."""
    return _render(
        "console/desk_reason.html", status=status, hospital=code, ref=ref, booking=booking,
        back=back, reason=reason, error=problem, longest=LONGEST_REASON, action=action,
        endpoint=REASON_FORMS[action],
    )  # fmt: skip


def _refused(code: str, refused: BookingError, action: str | None = None) -> Response:
    error = desk_words.refusal(refused, texts.texts(), action)
    return _render(
        "console/desk_done.html", status=REFUSED, hospital=code, error=error, back=_form_back(code)
    )


def _render(template: str, status: int = 200, **values: Any) -> Response:
    lang = texts.language()
    body = render_template(template, t=texts.texts(), lang=lang, **values)
    return make_response(body, status)
