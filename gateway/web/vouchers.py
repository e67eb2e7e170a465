"""The citizen's voucher: `/v/<ref>` (a mobile page with the QR) and `/v/<ref>.png`.

`ref` is a random 11-character token, not the T-code. Unknown refs answer a bare 404, and
every answer is `no-store` because a voucher can be cancelled or replaced at any moment.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template

from gateway.booking.voucher_view import VoucherView, cached_png, store_png, voucher_by_ref
from tcode.codes import group
from tcode.qr import render_png

bp = Blueprint("vouchers", __name__)

TEXTS = {
    "en": {
        "title": "Appointment voucher",
        "tcode": "T-code",
        "appointment": "Appointment",
        "show": "Show this code at the hospital kiosk, or type the T-code there.",
        "issued": "Valid",
        "used": "Checked in",
        "cancelled": "This appointment was cancelled.",
        "replaced": "This voucher was replaced by a newer one (the appointment was changed). "
        "Use the latest SMS.",
        "expired": "This voucher has expired.",
        "room": "Room",
    },
    "sw": {
        "title": "Tiketi ya miadi",
        "tcode": "Nambari T",
        "appointment": "Miadi",
        "show": "Onyesha msimbo huu kwenye kioski cha hospitali, au andika nambari T hapo.",
        "issued": "Halali",
        "used": "Umeshaingia",
        "cancelled": "Miadi hii imefutwa.",
        "replaced": "Tiketi hii imebadilishwa na mpya (miadi ilibadilishwa). Tumia SMS ya mwisho.",
        "expired": "Tiketi hii imepitwa na wakati.",
        "room": "Chumba",
    },
}


def _voucher(ref: str) -> VoucherView:
    if not ref.isalnum() or len(ref) > 16:
        abort(404)
    with current_app.extensions["ors"].reader() as session:
        view = voucher_by_ref(session, ref)
    if view is None:
        abort(404)
    return view


@bp.get("/v/<ref>")
def page(ref: str) -> Response:
    view = _voucher(ref)
    lang = view.language if view.language in TEXTS else "en"
    html = render_template(
        "vouchers/page.html", v=view, t=TEXTS[lang], lang=lang, tcode_groups=group(view.tcode)
    )
    return _no_store(Response(html, mimetype="text/html"))


@bp.get("/v/<ref>.png")
def image(ref: str) -> Response:
    view = _voucher(ref)
    if view.state != "issued":
        abort(404)  # a used, cancelled, replaced or expired voucher shows no QR
    runtime = current_app.extensions["ors"]
    with runtime.reader() as session:
        png = cached_png(session, view.id)
    if png is None:
        png = render_png(view.payload)
        with runtime.writer() as session:
            store_png(session, view.id, png)
            session.commit()
    return _no_store(Response(png, mimetype="image/png"))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
