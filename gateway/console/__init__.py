"""The staff console, `/console/`: one blueprint of server-rendered pages and plain forms.

Every route declares who may use it (`guard.staff_route`): the roles, and for routes under
`/console/<hospital>/` the hospital, which a staff member of another hospital never learns
exists (404). Sessions live in the database (gateway.staff), so disabling an account ends
them at once; every POST carries the session's CSRF token. Pages use no inline script or
style and nothing from elsewhere, so they keep the strict Content-Security-Policy.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def register_routes() -> Blueprint:
    """Import the route modules (they attach to `bp`) and return the blueprint."""
    from gateway.console import auth, day, desk, home, search  # noqa: F401  (routes)

    return bp
