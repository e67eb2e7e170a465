"""Flask application factory: wires the runtime and registers every blueprint explicitly."""

from __future__ import annotations

import logging

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

from gateway import console
from gateway.channels import africastalking, twilio
from gateway.kiosk_desk import BookingDesk
from gateway.logs import configure_logging
from gateway.metrics import instrument
from gateway.runtime import Runtime, build_runtime
from gateway.settings import ConfigError, Settings, check_production, load_settings
from gateway.web import body_limits, browser_headers, health, hops, voice_audio, vouchers
from gateway.web.proxies import TrustedProxies
from kiosk import api as kiosk_api
from kiosk import page as kiosk_page


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the WSGI app; the runtime (engine, Redis) is created here, i.e. after any fork."""
    settings = settings or (runtime.settings if runtime else load_settings())
    configure_logging(settings.log_level)
    if not settings.embedded:
        check_production(settings)  # whoever runs the factory (gunicorn, uWSGI) gets it too
    runtime = runtime or build_runtime(settings)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secrets.secret_key or None
    app.session_interface = NoCookieSessions()
    app.extensions["ors"] = runtime
    hops.install(app)  # hooks and the kiosk API answer within the hop deadline
    if settings.trusted_proxies:  # forwarded headers are believed from these peers only
        proxied = TrustedProxies(app.wsgi_app, settings.trusted_proxies)
        app.wsgi_app = proxied  # type: ignore[method-assign]  # Flask's documented way to wrap it
    body_limits.install(app, settings.body_limits)  # the first before_request: runs first
    instrument(app)
    browser_headers.install(app, settings.public_base_url)
    app.register_blueprint(health.bp)
    app.register_blueprint(vouchers.bp)
    app.register_blueprint(voice_audio.bp)
    app.register_blueprint(africastalking.register_routes())
    app.register_blueprint(twilio.register_routes())
    app.register_blueprint(console.register_routes())
    _register_kiosk(app, runtime)
    logging.getLogger(__name__).info(
        "ORS Gateway ready (%s mode)", "embedded" if settings.embedded else "production"
    )
    return app


class NoCookieSessions(SecureCookieSessionInterface):
    """No browser sessions: callers are phones, kiosks carry a bearer key. Opening the signed
    cookie session costs every request a serializer round (a tenth of a millisecond)."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None


def _register_kiosk(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings
    app.extensions[kiosk_api.EXTENSION] = BookingDesk(runtime)
    storage = settings.redis_url or "memory://"
    try:
        bp = kiosk_api.create_api(settings.kiosk_failed_code_limit, storage)
    except ValueError as exc:
        raise ConfigError(f"kiosk.failed_code_limit: {exc}") from None
    app.register_blueprint(bp)
    app.register_blueprint(kiosk_page.bp)
