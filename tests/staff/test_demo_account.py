"""The demo's desk account: made once, its password kept in the data folder (owner-only) and
reused at every start, and set right again when it was reset or disabled since."""

from __future__ import annotations

import pytest

from gateway.demo import DEMO_DESK_EMAIL, DEMO_DESK_FILE, DEMO_KIOSK_HOSPITAL, demo_desk_password
from gateway.runtime import Runtime


def signs_in(rt: Runtime, password: str) -> bool:
    opened = rt.staff.sign_in(DEMO_DESK_EMAIL, password, "127.0.0.1")
    current = rt.staff.current(opened.token)
    return current is not None and current.stage == "full"


def test_the_demo_desk_account_is_made_once(catalog: Runtime) -> None:
    password = demo_desk_password(catalog)
    assert signs_in(catalog, password)
    assert demo_desk_password(catalog) == password  # a second start reuses it
    (account,) = [a for a in catalog.staff.listing() if a.email == DEMO_DESK_EMAIL]
    assert (account.role, account.hospital_code) == ("desk", DEMO_KIOSK_HOSPITAL)
    kept = catalog.settings.data_dir / DEMO_DESK_FILE
    assert kept.read_text() == password + "\n" and kept.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("undo", ["reset", "disable", "forget the file"])
def test_the_demo_desk_account_is_set_right_again(catalog: Runtime, undo: str) -> None:
    old = demo_desk_password(catalog)
    if undo == "forget the file":
        (catalog.settings.data_dir / DEMO_DESK_FILE).unlink()
    else:
        getattr(catalog.staff, undo)(DEMO_DESK_EMAIL)
    new = demo_desk_password(catalog)
    assert new != old and signs_in(catalog, new)
