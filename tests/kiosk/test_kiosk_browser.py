"""The kiosk page in Debian's Chromium, driven by Playwright, against a live server.

Chromium comes from Debian (`apt-get install -y chromium`), never from `playwright install`.
Without /usr/bin/chromium these tests skip locally and fail under CI=true. Screenshots go to
test-artifacts/kiosk/; the README's ticket picture, docs/kiosk-ticket.png, is rewritten when it
is missing or ORS_UPDATE_DOCS=1.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.booking.models import Department, Voucher
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.browsers import EXPECT_TIMEOUT_MS, serving
from tests.kiosk.conftest import KioskClient, runtime_with

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "kiosk"
DOCS_TICKET = ROOT / "docs" / "kiosk-ticket.png"
VIEWPORT = {"width": 1024, "height": 768}
# Print calls are counted instead of opening a dialog (Chromium prints silently only with
# --kiosk-printing, which a headless test browser has no printer for).
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"
RED, GREEN, AMBER = "rgb(179, 38, 30)", "rgb(15, 123, 58)", "rgb(242, 176, 30)"
MM_PER_PT = 25.4 / 72


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def browser(chromium_browser: Any) -> Any:
    return chromium_browser


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app on a real socket; its runtime (and clock) is the test's `catalog`."""
    with serving(app) as url:
        yield url


@pytest.fixture
def pin_server(catalog: Runtime) -> Iterator[str]:
    """The same, on settings with a staff setup PIN (kiosk.setup_pin: 2468)."""
    with serving(create_app(runtime=runtime_with(catalog, kiosk_setup_pin="2468"))) as url:
        yield url


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(COUNT_PRINTS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A tab that fails the test on any script error or refused (CSP) resource."""
    tab = context.new_page()
    tab.set_default_timeout(EXPECT_TIMEOUT_MS)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda msg: _console_problem(msg, problems))
    yield tab
    assert problems == []


def _console_problem(msg: Any, problems: list[str]) -> None:
    # Chromium logs every 4xx answer as "Failed to load resource"; refusals are expected here.
    if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
        problems.append(msg.text)


@pytest.fixture
def kiosk_page(context: Any, page: Any, server: str, kiosk: KioskClient) -> Any:
    """Open the kiosk with its key already stored, as on every start after the first."""
    context.add_init_script(f"localStorage.setItem('ors.kiosk.key', {json.dumps(kiosk.key)})")
    return page


def open_kiosk(page: Any, server: str, query: str = "reset=60000") -> None:
    page.goto(f"{server}/kiosk/?{query}")
    page.wait_for_selector("#welcome:not([hidden])")


# --- helpers ----------------------------------------------------------------------------------


def payload_of(kiosk: KioskClient, tcode: str) -> str:
    with kiosk.rt.reader() as s:
        return s.scalars(select(Voucher.payload).where(Voucher.tcode == tcode)).one()


def booked_in_window(kiosk: KioskClient) -> Any:
    """A Cardiology booking at 08:00, with the clock at 07:15: inside the check-in window."""
    booked = kiosk.book("CARD", datetime(2026, 11, 23, 8, 0))
    kiosk.at(2026, 11, 23, 7, 15)
    return booked


def tap(page: Any, *keys: str) -> None:
    """Press keypad buttons: digits one by one, or a named key ("ok", "del", "clear")."""
    for key in keys:
        for name in key if key.isdigit() else [key]:
            page.click(f'#keypad [data-key="{name}"]')


def expect_result(
    page: Any,
    status: str | None = None,
    tone: str | None = None,
    colour: str | None = None,
    title: str | None = None,
    message: str | re.Pattern[str] | None = None,
) -> None:
    """Wait for the result panel to show what is given (each check retries until it holds)."""
    panel = page.locator("#result")
    expect(panel).to_be_visible()
    if status is not None:
        expect(panel).to_have_attribute("data-status", status)
    if tone is not None:
        expect(panel).to_have_attribute("data-tone", tone)
    if colour is not None:
        expect(panel).to_have_css("background-color", colour)
    if title is not None:
        expect(page.locator("#result-title")).to_have_text(title, use_inner_text=True)
    if message is not None:
        expect(page.locator("#result-message")).to_have_text(message, use_inner_text=True)


def expect_text(page: Any, selector: str, text: str) -> None:
    expect(page.locator(selector)).to_have_text(text, use_inner_text=True)


def expect_stored_key(page: Any, key: str | None) -> None:
    """Wait until the kiosk's stored key is `key` (None: no key stored)."""
    page.wait_for_function("key => localStorage.getItem('ors.kiosk.key') === key", arg=key)


def after_a_print_would_run(page: Any) -> None:
    """Return once a print the result scheduled (a frame, then a task) would have run."""
    page.evaluate("new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


def expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertions (imported late: without Playwright, tests skip)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def expect_focus_on_scan(page: Any) -> None:
    # The page gives focus back to the scanner input a tick after a blur: wait for it.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")


def shot(page: Any, name: str, **kw: Any) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", **kw)
    return path


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height in mm of each page of a PDF Chromium made."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w) * MM_PER_PT, float(h) * MM_PER_PT) for w, h in boxes]


# --- tests ------------------------------------------------------------------------------------


def test_first_run_asks_for_the_key_then_welcomes(page: Any, server: str, kiosk: KioskClient):
    page.goto(f"{server}/kiosk/")
    page.wait_for_selector("#setup:not([hidden])")
    expect(page.locator("#welcome")).to_be_hidden()
    expect(page.locator("#setup-forget")).to_be_hidden()
    shot(page, "setup")

    page.fill("#setup-key", "not-a-kiosk-key-but-long-enough-to-try")
    page.click("#setup-save")
    page.wait_for_selector("#setup-error:has-text('not accepted')")
    assert page.evaluate("localStorage.getItem('ors.kiosk.key')") is None  # never stored

    page.fill("#setup-key", kiosk.key)
    page.click("#setup-save")
    page.wait_for_selector("#welcome:not([hidden])")
    expect_text(page, "#welcome-title", "Welcome")
    expect(page.locator("#welcome")).to_contain_text("Scan your QR code or type your T-code")
    expect_stored_key(page, kiosk.key)
    expect_focus_on_scan(page)
    shot(page, "welcome")

    page.reload()  # the key is remembered
    page.wait_for_selector("#welcome:not([hidden])")

    page.goto(f"{server}/kiosk/?setup=1")  # IT staff: forget the key
    page.wait_for_selector("#setup:not([hidden])")
    expect(page).not_to_have_url(re.compile("setup"))
    forget_and_expect(page, kiosk.key)


def forget_and_expect(page: Any, proof: str) -> None:
    """A passer-by cannot forget the key; whoever types `proof` (key or PIN) can."""
    page.click("#setup-forget")
    expect(page.locator("#setup-error")).to_contain_text("first type this kiosk's key")
    page.fill("#setup-key", "1357")
    page.click("#setup-forget")
    expect(page.locator("#setup-error")).to_contain_text("neither this kiosk's key")
    assert page.evaluate("localStorage.getItem('ors.kiosk.key')") is not None  # kept
    page.fill("#setup-key", proof)
    page.click("#setup-forget")
    expect(page.locator("#setup-error")).to_contain_text("removed")
    expect_stored_key(page, None)


def test_staff_pin_forgets_the_key(
    context: Any, page: Any, pin_server: str, kiosk: KioskClient
) -> None:
    context.add_init_script(f"localStorage.setItem('ors.kiosk.key', {json.dumps(kiosk.key)})")
    page.goto(f"{pin_server}/kiosk/?setup=1")
    page.wait_for_selector("#setup:not([hidden])")
    forget_and_expect(page, "2468")


def test_long_press_on_the_title_opens_setup(kiosk_page: Any, server: str) -> None:
    open_kiosk(kiosk_page, server)
    kiosk_page.hover("#brand")
    kiosk_page.mouse.down()
    kiosk_page.wait_for_selector("#setup:not([hidden])", timeout=20_000)  # a 3 s press
    kiosk_page.mouse.up()
    kiosk_page.click("#setup-cancel")
    kiosk_page.wait_for_selector("#welcome:not([hidden])")
    expect_focus_on_scan(kiosk_page)


def test_scanner_checks_in_and_prints_the_ticket(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    booked = booked_in_window(kiosk)
    open_kiosk(kiosk_page, server)
    kiosk_page.click("#welcome-title")  # a touch anywhere keeps the scanner input focused
    expect_focus_on_scan(kiosk_page)

    kiosk_page.keyboard.type(payload_of(kiosk, booked.tcode))
    kiosk_page.keyboard.press("Enter")

    expect_result(
        kiosk_page,
        "checked_in",
        tone="ok",
        colour=GREEN,
        message="Welcome! You are checked in. Your number is 1.",
    )
    expect_text(kiosk_page, "#t-number", "1")
    expect_text(kiosk_page, "#t-hospital", "Kenyatta National Hospital")
    expect_text(kiosk_page, "#t-department", "Cardiology")
    expect_text(kiosk_page, "#t-time", "Mon 23 Nov 2026, 08:00")
    expect_text(kiosk_page, "#t-doctor", "Dr. Achieng Otieno")
    expect_text(kiosk_page, "#t-room", "Block B, Room 12")
    expect_text(kiosk_page, "#t-checked", "07:15")
    expect(kiosk_page.locator("#row-person")).to_be_hidden()  # the holder gave no name
    # The live region is filled a moment after the result (so screen readers announce it
    # again): wait for the text, never read it at once.
    expect(kiosk_page.locator("#live")).to_contain_text("You are checked in")
    kiosk_page.wait_for_function("window.__prints === 1")
    expect_focus_on_scan(kiosk_page)

    ticket = shot(kiosk_page, "ticket")
    if not DOCS_TICKET.exists() or os.environ.get("ORS_UPDATE_DOCS") == "1":
        DOCS_TICKET.parent.mkdir(exist_ok=True)
        DOCS_TICKET.write_bytes(ticket.read_bytes())

    # The print stylesheet: one 80 mm page holding the ticket and nothing else.
    kiosk_page.emulate_media(media="print")
    expect(kiosk_page.locator("#result-message")).to_be_hidden()
    expect(kiosk_page.locator(".bar")).to_be_hidden()
    expect(kiosk_page.locator("#t-number")).to_be_visible()
    shot(kiosk_page, "ticket-print", full_page=True)
    pdf = kiosk_page.pdf(prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / "ticket.pdf").write_bytes(pdf)
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and round(pages[0][0]) == 80, pages


def test_rescan_shows_already_checked_in_with_the_same_number(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    booked = booked_in_window(kiosk)
    kiosk.post("checkin", booked.tcode)
    kiosk.at(2026, 11, 23, 7, 40)
    open_kiosk(kiosk_page, server)
    kiosk_page.keyboard.type(booked.tcode + "\n")
    expect_result(kiosk_page, "already_checked_in", colour=GREEN)
    expect(kiosk_page.locator("#result-message")).to_contain_text("07:15")
    expect_text(kiosk_page, "#t-number", "1")
    kiosk_page.wait_for_function("window.__prints === 1")


def test_keypad_types_in_groups_and_ok_checks_in(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    booked = booked_in_window(kiosk)
    open_kiosk(kiosk_page, server, "reset=60000&print=0")

    tap(kiosk_page, "12345", "ok")
    kiosk_page.wait_for_selector("#hint:has-text('all 10 digits')")
    digits = expect(kiosk_page.locator("#digits"))
    digits.to_have_attribute("data-value", "")

    tap(kiosk_page, booked.tcode[:4] + "9", "del")
    digits.to_have_attribute("data-value", f"{booked.tcode[:3]} {booked.tcode[3]}")
    tap(kiosk_page, "clear")
    digits.to_have_attribute("data-value", "")

    tap(kiosk_page, booked.tcode)
    grouped = f"{booked.tcode[:3]} {booked.tcode[3:6]} {booked.tcode[6:]}"
    digits.to_have_attribute("data-value", grouped)
    expect_focus_on_scan(kiosk_page)
    shot(kiosk_page, "keypad")
    tap(kiosk_page, "ok")

    expect_result(kiosk_page, "checked_in", colour=GREEN)
    expect_text(kiosk_page, "#t-number", "1")
    after_a_print_would_run(kiosk_page)
    assert kiosk_page.evaluate("window.__prints") == 0  # ?print=0: a kiosk without a printer


def test_wrong_code_is_refused_in_red(kiosk_page: Any, server: str, kiosk: KioskClient) -> None:
    booked = booked_in_window(kiosk)
    wrong = booked.tcode[:-1] + str((int(booked.tcode[-1]) + 1) % 10)
    open_kiosk(kiosk_page, server)
    tap(kiosk_page, wrong, "ok")
    expect_result(
        kiosk_page,
        "bad_code",
        tone="stop",
        colour=RED,
        title="Sorry",
        message=re.compile(r"^We could not read that code\."),
    )
    expect(kiosk_page.locator("#ticket")).to_be_hidden()
    after_a_print_would_run(kiosk_page)
    assert kiosk_page.evaluate("window.__prints") == 0
    shot(kiosk_page, "refused")


def test_too_early_is_amber_with_the_opening_time(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    booked = kiosk.book("CARD", datetime(2026, 11, 23, 11, 0))
    kiosk.at(2026, 11, 23, 8, 0)
    open_kiosk(kiosk_page, server)
    kiosk_page.keyboard.type(payload_of(kiosk, booked.tcode) + "\n")
    expect_result(kiosk_page, "too_early", tone="warn", colour=AMBER)
    expect(kiosk_page.locator("#result-message")).to_contain_text("09:00")
    expect(kiosk_page.locator("#ticket")).to_be_hidden()
    shot(kiosk_page, "too-early")


def test_kiswahili_switch_translates_page_and_api(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    booked = booked_in_window(kiosk)
    open_kiosk(kiosk_page, server, "reset=1500")
    kiosk_page.click("[data-lang-choice='sw']")
    expect(kiosk_page.locator("#welcome-title")).to_have_text("Karibu")
    expect(kiosk_page.locator("#welcome")).to_contain_text("Changanua msimbo wako wa QR")
    expect(kiosk_page.locator("html")).to_have_attribute("lang", "sw")
    expect_focus_on_scan(kiosk_page)
    shot(kiosk_page, "welcome-sw")

    kiosk_page.keyboard.type(booked.tcode)
    kiosk_page.keyboard.press("Enter")
    expect_result(
        kiosk_page,
        "checked_in",
        title="Umesajiliwa",
        message="Karibu! Umesajiliwa. Nambari yako ni 1.",
    )
    expect(kiosk_page.locator("#ticket .t-label").first).to_have_text("Nambari yako")
    expect_text(kiosk_page, "#t-time", "Jumatatu 23 Nov 2026, 08:00")

    # The next citizen starts in the kiosk's own language again (reset=1500 ms).
    kiosk_page.wait_for_selector("#welcome:not([hidden])", timeout=20_000)
    expect_text(kiosk_page, "#welcome-title", "Welcome")


def test_result_resets_to_welcome_by_itself(kiosk_page: Any, server: str) -> None:
    open_kiosk(kiosk_page, server, "reset=1500")
    kiosk_page.keyboard.type("ORS1:not-a-voucher\n")
    expect_result(kiosk_page, tone="stop")
    kiosk_page.wait_for_selector("#welcome:not([hidden])", timeout=20_000)  # reset=1500 ms
    expect(kiosk_page.locator("#result")).to_be_hidden()
    expect(kiosk_page.locator("#digits")).to_have_attribute("data-value", "")
    expect_focus_on_scan(kiosk_page)


def test_rejected_key_sends_the_kiosk_back_to_setup(
    context: Any, page: Any, server: str, kiosk: KioskClient
) -> None:
    context.add_init_script(
        "localStorage.setItem('ors.kiosk.key', 'revoked-key-' + 'x'.repeat(30))"
    )
    booked = booked_in_window(kiosk)
    page.goto(f"{server}/kiosk/")
    page.wait_for_selector("#welcome:not([hidden])")
    page.keyboard.type(booked.tcode + "\n")
    page.wait_for_selector("#setup:not([hidden])")
    expect(page.locator("#setup-error")).to_contain_text("not accepted")
    expect_stored_key(page, None)


@pytest.mark.parametrize("lang, clinic", [("en", "Your clinic"), ("sw", "Kliniki yako")])
def test_a_sensitive_department_shows_only_the_room_and_your_clinic(
    kiosk_page: Any, server: str, kiosk: KioskClient, lang: str, clinic: str
) -> None:
    with kiosk.rt.writer() as s:
        room = {"room": "Block E, Room 2"}
        s.execute(update(Department).where(Department.code == "CCC").values(**room))
        s.commit()
    kiosk.rt.booking.catalogue.invalidate()
    booked = kiosk.book("CCC", datetime(2026, 11, 23, 9, 0))
    kiosk.at(2026, 11, 23, 8, 30)
    open_kiosk(kiosk_page, server, f"reset=60000&lang={lang}")
    kiosk_page.keyboard.type(payload_of(kiosk, booked.tcode) + "\n")
    expect_result(kiosk_page, "checked_in")
    expect(kiosk_page.locator("#t-department")).to_have_text(clinic)
    expect(kiosk_page.locator("#t-room")).to_have_text("Block E, Room 2")
    assert "HIV" not in kiosk_page.inner_text("body")
    kiosk_page.wait_for_function("window.__prints === 1")
    kiosk_page.emulate_media(media="print")  # the paper ticket carries no name either
    expect(kiosk_page.locator("#t-department")).to_be_visible()
    assert "HIV" not in kiosk_page.inner_text("#ticket")
    shot(kiosk_page, f"ticket-sensitive-{lang}")


@pytest.mark.parametrize("lang, label", [("en", "Name"), ("sw", "Jina")])
def test_a_childs_ticket_carries_her_first_name_on_screen_and_paper(
    kiosk_page: Any, server: str, kiosk: KioskClient, lang: str, label: str
) -> None:
    amina = kiosk.rt.booking.add_person("+254700000001", "Amina")
    booked = kiosk.rt.booking.book(
        "+254700000001", slot_id(kiosk.rt, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd",
        person_id=amina.id,
    )  # fmt: skip
    kiosk.at(2026, 11, 23, 7, 15)
    open_kiosk(kiosk_page, server, f"reset=60000&lang={lang}")
    kiosk_page.keyboard.type(payload_of(kiosk, booked.tcode) + "\n")
    expect_result(kiosk_page, "checked_in", colour=GREEN)
    expect_text(kiosk_page, "#row-person dt", label)
    expect_text(kiosk_page, "#t-person", "Amina")
    assert "+254" not in kiosk_page.inner_text("body")  # never the phone
    kiosk_page.wait_for_function("window.__prints === 1")
    kiosk_page.emulate_media(media="print")
    expect(kiosk_page.locator("#t-person")).to_be_visible()
    pdf = kiosk_page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(pdf_pages(pdf)) == 1  # the name's row still fits the one 80 mm ticket
    shot(kiosk_page, f"ticket-child-{lang}")


def test_a_portrait_kiosk_shows_the_top_of_a_long_ticket_below_the_header(
    kiosk_page: Any, server: str, kiosk: KioskClient
) -> None:
    """A result taller than a portrait screen starts under the header and scrolls: centring
    it slipped the verdict's icon and title under the header bar."""
    amina = kiosk.rt.booking.add_person("+254700000001", "Amina")
    booked = kiosk.rt.booking.book(
        "+254700000001", slot_id(kiosk.rt, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd",
        person_id=amina.id,
    )  # fmt: skip
    kiosk.at(2026, 11, 23, 7, 15)
    kiosk_page.set_viewport_size({"width": 900, "height": 1100})
    open_kiosk(kiosk_page, server)
    kiosk_page.keyboard.type(payload_of(kiosk, booked.tcode) + "\n")
    expect_result(kiosk_page, "checked_in", colour=GREEN)
    bar = kiosk_page.locator(".bar").bounding_box()
    icon = kiosk_page.locator(".result .icon-ok").bounding_box()
    assert icon["y"] >= bar["y"] + bar["height"], (icon, bar)
    shot(kiosk_page, "ticket-portrait")
