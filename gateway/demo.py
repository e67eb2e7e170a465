"""The embedded demo: SQLite, demo catalogue and slots, a demo kiosk, background sweeps."""

from __future__ import annotations

import logging
import secrets
import threading
from pathlib import Path

from gateway import migrate
from gateway.booking.catalogue.load import DEMO_CATALOG
from gateway.kiosks import add_kiosk, identify
from gateway.messaging.worker import start_embedded
from gateway.runtime import Runtime
from gateway.staff.accounts import Listed

DEMO_KIOSK_HOSPITAL = "MCH"  # home of the 24-hour demo clinic, so check-in works at any hour
KIOSK_KEY_FILE = "kiosk-key.txt"
# A household to try "Who is the appointment for?" with: the phone's holder and two children.
DEMO_FAMILY_PHONE = "+254700000009"
DEMO_FAMILY = ("Amina", "Baraka")
# A desk clerk's console account at the kiosk's hospital, so a desk check-in works at any hour.
# Not an admin: an admin must enrol a second factor first, and the banner says how to add one.
DEMO_DESK_EMAIL = "desk@demo.example"
DEMO_DESK_FILE = "console-desk.txt"
log = logging.getLogger(__name__)


def prepare(rt: Runtime) -> str:
    """Migrate, load the demo catalogue, generate slots; return the demo kiosk's key."""
    migrate.upgrade(rt.engine)
    rt.booking.load_catalog(DEMO_CATALOG)
    horizon = rt.settings.booking.defaults.horizon_days
    rt.booking.generate_slots(horizon + 1)
    demo_family(rt)
    return demo_kiosk_key(rt)


def demo_family(rt: Runtime) -> None:
    """Give the demo family phone its two children, once (a restart adds nobody)."""
    if len(rt.booking.persons(DEMO_FAMILY_PHONE)) == 1:
        for name in DEMO_FAMILY:
            rt.booking.add_person(DEMO_FAMILY_PHONE, name)


def demo_kiosk_key(rt: Runtime) -> str:
    """The demo kiosk's key, kept in the git-ignored data folder and reused at every start."""
    path: Path = rt.settings.data_dir / KIOSK_KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if identify(rt.reader, key) is not None:
            return key
    key = add_kiosk(rt.writer, DEMO_KIOSK_HOSPITAL, "Demo kiosk", rt.clock.now())
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def demo_desk_password(rt: Runtime) -> str:
    """The demo desk account's password, kept in the git-ignored data folder like the kiosk key.
    The account is made at the first start; one reset or disabled since gets a new password."""
    path: Path = rt.settings.data_dir / DEMO_DESK_FILE
    account = _account(rt, DEMO_DESK_EMAIL)
    if path.exists() and account is not None and account.state == "active":
        return path.read_text().strip()
    password = "-".join(secrets.token_hex(3) for _ in range(3))  # 72 random bits
    if account is None:
        rt.staff.add(DEMO_DESK_EMAIL, "Demo Clerk", "desk", DEMO_KIOSK_HOSPITAL, password=password)
    else:  # the demo's own clerk: a disabled one is enabled again, then given a new password
        rt.staff.enable(DEMO_DESK_EMAIL)
        rt.staff.setup_account(rt.staff.reset(DEMO_DESK_EMAIL), password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _account(rt: Runtime, email: str) -> Listed | None:
    return next((a for a in rt.staff.listing() if a.email == email), None)


def start_background(
    rt: Runtime, stop: threading.Event, every_seconds: float = 30
) -> threading.Thread:
    """Run the periodic housekeeping in a thread of this process (the demo has no worker)."""
    start_embedded(rt, stop)  # outbox relay and SMS sending, in threads of this process

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                # Holds, no-shows, invitations, walk-in return, and slots once a hospital-day.
                rt.booking.sweep()
            except Exception:  # keep the loop alive; the next round tries again
                log.exception("demo background round failed")

    thread = threading.Thread(target=loop, name="ors-demo-background", daemon=True)
    thread.start()
    return thread
