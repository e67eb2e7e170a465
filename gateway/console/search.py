"""Search, `/console/<hospital>/search`, and the person page, `/console/<hospital>/person/<id>`.

A clerk types the last digits of a phone, a T-code (its check digit is tried first, so a
typing error is named at once) or a booking reference. Everything is scoped to the hospital
of the URL: a person is found, and their page exists, only through a booking there, so a
clerk never learns of a citizen who never booked at their hospital (404, as for no one).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session

from gateway.booking.views import person_search
from gateway.booking.views.person_page import person_page
from gateway.console import bp, texts
from gateway.console.guard import staff, staff_route
from gateway.console.search_terms import Term, read_term
from gateway.messaging.booking_messages import messages_about
from gateway.runtime import Runtime
from gateway.staff.roles import Role

# A doctor sees their own day list only, not every patient of the hospital.
ROLES: tuple[Role, ...] = ("desk", "admin", "ministry")
LONGEST_QUERY = 64  # more than any phone, T-code or reference, however spaced


@bp.get("/<hospital>/search")
@staff_route(*ROLES)
def search(hospital: str) -> Response:
    code, typed = hospital.upper(), request.args.get("q", "").strip()[:LONGEST_QUERY]
    runtime = _runtime()
    with runtime.reader() as session:
        name = person_search.hospital_name(session, code)
        if name is None:
            abort(404)
        term = read_term(typed, runtime.settings.default_region) if typed else None
        exact = _exact(session, code, term) if term else None
        if exact is not None:
            return redirect(url_for("console.person", hospital=code, person_id=exact))  # type: ignore[return-value]
        found = _by_phone(session, code, term) if term else []
    if term is not None:
        # Every search is in the audit trail (what kind, how many found, never the digits):
        # endings tried one digit at a time would otherwise spell out a masked number.
        kind = "tcode" if term.tcode else "ref" if term.ref else "phone" if term.phone else "ending"
        seen = f"{kind}, {len(found) if exact is None else 1} found"
        runtime.booking.record_view(staff().actor, "person_search", code, seen)
    problem = term.problem if term and not found else None
    return _render(
        "console/search.html", hospital=code, hospital_name=name, typed=typed, found=found,
        searched=term is not None, problem=problem, most=person_search.MOST_FOUND,
    )  # fmt: skip


@bp.get("/<hospital>/person/<int:person_id>")
@staff_route(*ROLES)
def person(hospital: str, person_id: int) -> Response:
    code, runtime = hospital.upper(), _runtime()
    with runtime.reader() as session:
        page = person_page(session, code, person_id, runtime.clock.now(), _real_name(code))
        if page is None:
            abort(404)  # never booked here: the same answer as no such person
        bookings = [b.ref for b in page.bookings]
        messages = messages_about(session, person_id, bookings, page.invitation_refs)
    # `now` offers "No-show" only on bookings whose slot has started (the core refuses before).
    return _render(
        "console/person.html", hospital=code, page=page, messages=messages,
        now=runtime.clock.now(),
    )  # fmt: skip


# --- inside -----------------------------------------------------------------------------------


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["ors"]
    return runtime


def _real_name(hospital_code: str) -> bool:
    return _runtime().booking.rules.rules_for(hospital_code).real_name


def _exact(session: Session, code: str, term: Term) -> int | None:
    """The one person a T-code or a reference names at the hospital, if it does."""
    if term.tcode is not None:
        found = person_search.person_of_tcode(session, code, term.tcode)
        if found is not None:
            return found
    return person_search.person_of_ref(session, code, term.ref) if term.ref else None


def _by_phone(session: Session, code: str, term: Term) -> list[person_search.FoundPerson]:
    if term.phone is None and term.ending is None:
        return []
    return person_search.persons_by_phone(
        session, code, phone=term.phone, ending=None if term.phone else term.ending,
        real_name=_real_name(code),
    )  # fmt: skip


def _render(template: str, **values: Any) -> Response:
    body = render_template(template, t=texts.texts(), lang=texts.language(), **values)
    return make_response(body)
