"""The citizen's voucher: `/v/<ref>` (a mobile page with the QR) and `/v/<ref>.png`.

`ref` is a random 11-character token, not the T-code. Unknown refs answer a bare 404, and
every answer is `no-store` because a voucher can be cancelled or replaced at any moment. Once
the appointment is no longer ahead (cancelled, replaced, expired, over, or the person erased)
both answer 410 Gone with one neutral sentence: no hospital, department, time or code
(gateway.booking.views.voucher_page says when).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template

from gateway.booking.domain.states import VoucherState
from gateway.booking.views.voucher_page import VoucherView, cached_png, store_png, voucher_by_ref
from gateway.web.hops import HopUnavailable, bounded
from tcode.codes import group
from tcode.qr import render_png

bp = Blueprint("vouchers", __name__)

# Page texts; a voucher that is not valid shows the sentence for its state.
_V = VoucherState
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Appointment voucher",
        "tcode": "T-code",
        "appointment": "Appointment",
        "show": "Show this code at the hospital kiosk, or type the T-code there.",
        _V.ISSUED: "Valid",
        _V.USED: "Checked in",
        _V.CANCELLED: "This appointment was cancelled.",
        _V.REPLACED: "This voucher was replaced by a newer one (the appointment was changed). "
        "Use the latest SMS.",
        _V.EXPIRED: "This voucher has expired.",
        "room": "Room",
        "person": "Name",
        "gone": "This link is no longer valid. Your latest SMS has your current appointment.",
    },
    "sw": {
        "title": "Tiketi ya miadi",
        "tcode": "Nambari T",
        "appointment": "Miadi",
        "show": "Onyesha msimbo huu kwenye kioski cha hospitali, au andika nambari T hapo.",
        _V.ISSUED: "Halali",
        _V.USED: "Umeshaingia",
        _V.CANCELLED: "Miadi hii imefutwa.",
        _V.REPLACED: "Tiketi hii imebadilishwa na mpya (miadi ilibadilishwa). Tumia SMS ya mwisho.",
        _V.EXPIRED: "Tiketi hii imepitwa na wakati.",
        "room": "Chumba",
        "person": "Jina",
        "gone": "Kiungo hiki si halali tena. SMS yako ya mwisho ina miadi yako ya sasa.",
    },
}


class _Gone(Exception):
    """The voucher's appointment is no longer ahead: answer 410 in the citizen's language."""

    def __init__(self, language: str | None):
        self.language = language


def _voucher(ref: str) -> VoucherView:
    if not ref.isalnum() or len(ref) > 16:
        abort(404)
    runtime = current_app.extensions["ors"]

    def read() -> VoucherView | None:
        with runtime.reader() as session:
            return voucher_by_ref(session, ref)

    view = bounded("voucher", read)
    if view is None:
        abort(404)
    if view.gone(runtime.clock.now(), runtime.booking.rules):
        raise _Gone(view.language)
    return view


@bp.errorhandler(_Gone)
def gone(exc: _Gone) -> Response:
    lang = exc.language if exc.language in TEXTS else "en"
    html = render_template("vouchers/gone.html", t=TEXTS[lang], lang=lang)
    return _no_store(Response(html, status=410, mimetype="text/html"))


@bp.errorhandler(HopUnavailable)
def unavailable(_exc: HopUnavailable) -> Response:
    """The database could not answer in time: the page asks to be reloaded, never hangs."""
    response = Response("Temporarily unavailable. Please try again.", 503, mimetype="text/plain")
    response.headers["Retry-After"] = "2"
    return _no_store(response)


@bp.get("/v/<ref>")
def page(ref: str) -> Response:
    view = _voucher(ref)
    lang = view.language if view.language in TEXTS else "en"
    html = render_template(
        "vouchers/page.html",
        v=view,
        t=TEXTS[lang],
        lang=lang,
        tcode_groups=group(view.tcode),
        states=VoucherState,
    )
    return _no_store(Response(html, mimetype="text/html"))


@bp.get("/v/<ref>.png")
def image(ref: str) -> Response:
    view = _voucher(ref)
    if view.state != VoucherState.ISSUED:
        abort(404)  # checked in (used): the appointment is on, but the QR is spent
    runtime = current_app.extensions["ors"]

    def png_of(view: VoucherView) -> bytes:
        with runtime.reader() as session:
            png = cached_png(session, view.id)
        if png is None:
            png = render_png(view.payload)
            with runtime.writer() as session:
                store_png(session, view.id, png)
                session.commit()
        return png

    png = bounded("voucher", lambda: png_of(view))
    return _no_store(Response(png, mimetype="image/png"))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
