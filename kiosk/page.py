"""The kiosk page, `GET /kiosk/`: one HTML page whose script talks to the kiosk JSON API.

Everything the page uses is served from this blueprint (no fonts, scripts or CDNs), because
kiosks run on closed hospital networks; the Content-Security-Policy makes any stray external
reference fail visibly instead of hanging on a timeout.

Query parameters, for IT staff and tests: `lang=en|sw` (the kiosk's default language),
`reset=<ms>` (how long a result stays up), `print=0` (kiosks without a ticket printer) and
`setup=1` (handled by the script: open the key setup screen).
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

bp = Blueprint(
    "kiosk_page",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

LANGUAGES = ("en", "sw")
DEFAULT_RESET_MS = 8000
MIN_RESET_MS, MAX_RESET_MS = 1000, 120_000
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.get("/")
def index() -> Response:
    """Serve the kiosk page with its settings as data attributes."""
    page = render_template(
        "kiosk/index.html",
        lang=_language(),
        reset_ms=_reset_ms(),
        print_tickets=request.args.get("print") != "0",
    )
    response = make_response(page)
    response.headers["Content-Security-Policy"] = CSP
    # Revalidate on every load so a kiosk picks up a new page version at its next reload.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _language() -> str:
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else "en"


def _reset_ms() -> int:
    asked = request.args.get("reset", "")
    if not asked.isdigit():
        return DEFAULT_RESET_MS
    return min(max(int(asked), MIN_RESET_MS), MAX_RESET_MS)
