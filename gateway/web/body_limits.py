"""Request body ceilings per route family, enforced before anything reads the body.

Registered as the app's first `before_request`, so it runs ahead of every other hook (app-level
hooks run before blueprint ones, and in registration order): the Twilio signature check and the
Africa's Talking routes parse forms, and a forged 4 MB post must cost nothing but a 413.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, abort, request

from gateway.settings import BodyLimits

EXTENSION = "ors_body_limits"
HOOKS, KIOSK_API = "/hooks/", "/kiosk/api/"
URLENCODED = "application/x-www-form-urlencoded"


@dataclass
class BodyLimitTable:
    """Byte limit by path prefix (the longest matching prefix wins), else the default.

    Routes added later that take bigger bodies (an authenticated upload) declare their own.
    """

    default: int
    prefixes: dict[str, int] = field(default_factory=dict)

    def declare(self, prefix: str, limit: int) -> None:
        self.prefixes[prefix] = limit

    def limit_for(self, path: str) -> int:
        matches = [p for p in self.prefixes if path.startswith(p)]
        return self.prefixes[max(matches, key=len)] if matches else self.default


def install(app: Flask, limits: BodyLimits) -> BodyLimitTable:
    """Register the check; call before any other `before_request` is registered."""
    table = BodyLimitTable(limits.default, {HOOKS: limits.hooks, KIOSK_API: limits.kiosk})
    app.extensions[EXTENSION] = table

    @app.before_request
    def _limit_body() -> None:
        limit = table.limit_for(request.path)
        if request.content_length is None:
            _limit_stream(limit)
        elif request.content_length > limit:
            abort(413)
        if request.path.startswith(HOOKS):
            _limit_form_fields(limits.hook_form_fields)

    return table


def _limit_stream(limit: int) -> None:
    """A chunked body has no length up front: read at most one byte past the limit.

    Werkzeug's own `max_content_length` cut would hand the route a silently truncated body,
    so the bytes are read (and cached for the route) here, where a surplus byte means 413.
    """
    request.max_content_length = limit + 1
    if len(request.get_data(cache=True)) > limit:
        abort(413)


def _limit_form_fields(most: int) -> None:
    """Count a provider form's fields on the raw bytes, before anything parses it.

    Werkzeug's `max_form_parts` bounds multipart bodies only; an urlencoded body is split on
    `&`, so counting separators in the (already size-capped) bytes bounds it exactly. The bytes
    stay cached, and the form is later parsed from that cache.
    """
    request.max_form_parts = most
    if request.mimetype == URLENCODED and request.get_data(cache=True).count(b"&") >= most:
        abort(413)
