"""Staff console fixtures: accounts of each role at KNH (and one at MCH), signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.runtime import Runtime

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A test client that keeps cookies and reads the CSRF token of the last page."""

    client: FlaskClient
    csrf: str = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True
    ) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        response = self.client.post(path, data=form)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def sign_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        self.get("/console/login")
        return self.post("/console/login", {"email": email, "password": password})


@pytest.fixture
def staffed(catalog: Runtime) -> Runtime:
    """Accounts of every role: desk, admin and doctor at KNH, desk at MCH, one ministry."""
    staff = catalog.staff
    staff.add("desk@knh.example", "Grace Wanjiru", "desk", "KNH", password=PASSWORD)
    staff.add("doctor@knh.example", "Achieng Otieno", "doctor", "KNH", "D001", password=PASSWORD)
    staff.add("desk@mch.example", "Peter Kamau", "desk", "MCH", password=PASSWORD)
    return catalog


@pytest.fixture
def browser(staffed: Runtime) -> Browser:
    return Browser(create_app(runtime=staffed).test_client())


SECRET = re.compile(r'<code class="key">([A-Z2-7]+)</code>')


def enrolled(browser: Browser, rt: Runtime, email: str) -> list[str]:
    """Sign in an account that must enrol a second factor, enrol one, return its recovery
    codes; the browser then holds a full session."""
    import pyotp

    first: Any = browser.sign_in(email)
    assert first.headers["Location"].endswith("/console/enrol"), first.headers.get("Location")
    page: Any = browser.get("/console/enrol")
    secret = SECRET.search(page.get_data(as_text=True))
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).at(rt.clock.now())
    done: Any = browser.post("/console/enrol", {"otp": code})
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    return re.findall(r"<code>([a-z2-9-]{14})</code>", done.get_data(as_text=True))


@pytest.fixture
def admin_and_ministry(staffed: Runtime) -> Runtime:
    staffed.staff.add("admin@knh.example", "Mary Njeri", "admin", "KNH", password=PASSWORD)
    staffed.staff.add("officer@health.example", "John Mwangi", "ministry", password=PASSWORD)
    return staffed


@pytest.fixture
def live_server(staffed: Runtime) -> Iterator[str]:
    """The console on a real socket, on the `staffed` runtime."""
    from tests.browsers import serving

    with serving(create_app(runtime=staffed)) as url:
        yield url
