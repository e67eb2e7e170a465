"""Security headers on every answer, for the browsers that open voucher links and kiosk pages.

HTML gets a strict Content-Security-Policy (no inline script or style, nothing from elsewhere,
no framing) unless its route set a policy of its own (the kiosk page does); every answer gets
`nosniff` and `no-referrer`, and HSTS once the public address is https.
"""

from __future__ import annotations

from flask import Flask, Response

HTML_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # one year, the usual preload minimum


def install(app: Flask, public_base_url: str) -> None:
    """Register the `after_request` that adds the headers."""
    hsts = public_base_url.startswith("https://")

    @app.after_request
    def _browser_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", HTML_CSP)
            headers.setdefault("X-Frame-Options", "DENY")
        if hsts:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
