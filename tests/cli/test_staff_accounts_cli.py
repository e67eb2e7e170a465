"""`ors staff add|list|disable|reset` (issue #20, item 1), run in-process on the test runtime
(both backends): the setup link works in the console, refusals are one sentence and a non-zero
exit, a reset clears the second factor and ends sessions."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.staff.models import StaffAccount
from tests.cli.desk import refusal
from tests.clocks import clock_of
from tests.conftest import Ors
from tests.console.conftest import PASSWORD, Browser

EMAIL = "clerk@knh.example"
HEADER = ["EMAIL", "NAME", "ROLE", "HOSPITAL", "DOCTOR", "2FA", "STATE", "LAST", "LOGIN"]


def with_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def setup_path(out: str) -> str:
    """The setup link a command prints alone on its last line, as a console path."""
    last = out.splitlines()[-1]
    assert last.startswith("http") and " " not in last, out
    path = "/console/setup/" + last.split("/console/setup/", 1)[1]
    assert len(path) > len("/console/setup/") + 20, last
    return path


def add_clerk(ors_cli: Ors, *more: str) -> str:
    code, out, err = ors_cli(
        "staff", "add", "--email", EMAIL, "--name", "Mary Njeri", "--role", "desk",
        "--hospital", "knh", *more,
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    return out


def listed(ors_cli: Ors) -> dict[str, list[str]]:
    """`ors staff list` as rows by e-mail (cells split on runs of two or more spaces)."""
    code, out, err = ors_cli("staff", "list")
    assert (code, err) == (0, "")
    header, *lines = out.splitlines()
    assert header.split() == HEADER
    rows = [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines]
    return {row[0]: row for row in rows}


def test_add_prints_a_setup_link_that_sets_the_password(catalog: Runtime, ors_cli: Ors) -> None:
    out = add_clerk(ors_cli)
    assert out.splitlines()[0].startswith("desk account clerk@knh.example added at KNH.")
    browser = Browser(create_app(runtime=catalog).test_client())
    page: Any = browser.get(setup_path(out))
    assert page.status_code == 200
    done: Any = browser.post(setup_path(out), {"password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("?notice=setup_done")
    assert "Your password is set." in browser.get(done.headers["Location"]).get_data(True)
    assert browser.sign_in(EMAIL).status_code == 302
    again: Any = browser.client.post(setup_path(out), data={"password": PASSWORD})
    assert again.status_code == 400  # the link works once


def test_add_with_a_password_from_stdin(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_stdin(monkeypatch, PASSWORD + "\nthe next line is not read\n")
    out = add_clerk(ors_cli, "--password-stdin")
    assert out.splitlines()[-1].endswith("/console/login")
    assert "/console/setup/" not in out
    browser = Browser(create_app(runtime=catalog).test_client())
    assert browser.sign_in(EMAIL).status_code == 302
    with catalog.reader() as s:
        stored = s.scalar(select(StaffAccount.password_hash).where(StaffAccount.email == EMAIL))
    assert stored is not None and stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    "password, sentence",
    [
        ("short1!", "Error: choose another password: at least 12 characters"),
        ("password123456", "Error: choose another password: one of the most common passwords"),
        ("clerk-2026-clerk", "Error: choose another password: not your e-mail address"),
    ],
)
def test_a_weak_password_is_refused_with_a_sentence(
    catalog: Runtime,
    ors_cli: Ors,
    monkeypatch: pytest.MonkeyPatch,
    password: str,
    sentence: str,
) -> None:
    with_stdin(monkeypatch, password + "\n")
    result = ors_cli(
        "staff", "add", "--email", EMAIL, "--name", "Mary Njeri", "--role", "desk",
        "--hospital", "KNH", "--password-stdin",
    )  # fmt: skip
    assert refusal(result) == (1, sentence)
    assert EMAIL not in listed(ors_cli)  # nothing was written


@pytest.mark.parametrize(
    "args, code, sentence",
    [
        (
            ("--role", "desk", "--hospital", "XYZ"),
            2,
            "ors: no hospital XYZ; hospitals: KNH, MCH, STH",
        ),
        (("--role", "desk"), 1, "Error: a desk account needs --hospital"),
        (
            ("--role", "ministry", "--hospital", "KNH"),
            1,
            "Error: a ministry account covers every hospital",
        ),
        (
            ("--role", "doctor", "--hospital", "KNH"),
            1,
            "Error: a doctor account, and only one, names --doctor",
        ),
        (
            ("--role", "doctor", "--hospital", "KNH", "--doctor", "D999"),
            1,
            "Error: no doctor 'D999' at that hospital",
        ),
    ],
)
def test_add_refusals_are_one_sentence(
    ors_cli: Ors, args: tuple[str, ...], code: int, sentence: str
) -> None:
    result = ors_cli("staff", "add", "--email", EMAIL, "--name", "Mary Njeri", *args)
    assert refusal(result) == (code, sentence)


def test_an_email_has_one_account(ors_cli: Ors) -> None:
    add_clerk(ors_cli)
    result = ors_cli(
        "staff", "add", "--email", EMAIL.upper(), "--name", "Someone Else", "--role", "desk",
        "--hospital", "MCH",
    )  # fmt: skip
    assert refusal(result) == (1, f"Error: {EMAIL} has an account already")


def test_list_shows_every_account_in_local_time(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_clerk(ors_cli)
    with_stdin(monkeypatch, PASSWORD + "\n")
    code, _, err = ors_cli(
        "staff", "add", "--email", "doctor@knh.example", "--name", "Achieng Otieno",
        "--role", "doctor", "--hospital", "KNH", "--doctor", "d001", "--password-stdin",
    )  # fmt: skip
    assert (code, err) == (0, "")
    catalog.staff.add("officer@health.example", "Juma Ali", "ministry")
    catalog.staff.sign_in("doctor@knh.example", PASSWORD, "10.0.0.1")
    nairobi = clock_of(catalog).now().astimezone(ZoneInfo("Africa/Nairobi"))
    catalog.staff.disable(EMAIL)
    assert listed(ors_cli) == {
        "officer@health.example": [
            "officer@health.example", "Juma Ali", "ministry", "all", "-", "no", "setup pending",
            "never",
        ],
        "doctor@knh.example": [
            "doctor@knh.example", "Achieng Otieno", "doctor", "KNH", "D001", "no", "active",
            f"{nairobi:%Y-%m-%d %H:%M}",  # KNH's local time, not UTC
        ],
        EMAIL: [EMAIL, "Mary Njeri", "desk", "KNH", "-", "no", "disabled", "never"],
    }  # fmt: skip


def test_disable_ends_the_sessions_at_once(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_stdin(monkeypatch, PASSWORD + "\n")
    add_clerk(ors_cli, "--password-stdin")
    browser = Browser(create_app(runtime=catalog).test_client())
    browser.sign_in(EMAIL)
    assert browser.get("/console/login").status_code == 302
    code, out, err = ors_cli("staff", "disable", EMAIL)
    assert (code, err) == (0, "")
    assert out == f"{EMAIL} is disabled and its console sessions have ended\n"
    assert browser.get("/console/login").status_code == 200
    assert browser.sign_in(EMAIL).status_code == 401


def test_reset_clears_the_second_factor_and_ends_sessions(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_stdin(monkeypatch, PASSWORD + "\n")
    add_clerk(ors_cli, "--password-stdin")
    staff = catalog.staff
    opened = staff.sign_in(EMAIL, PASSWORD, "10.0.0.1")
    secret = staff.start_enrolment(opened.token)
    full, _ = staff.enrol(opened.token, pyotp.TOTP(secret).at(catalog.clock.now()))
    assert listed(ors_cli)[EMAIL][5] == "yes"
    code, out, err = ors_cli("staff", "reset", EMAIL)
    assert (code, err) == (0, "")
    assert "second factor (TOTP)" in out and "sessions ended" in out
    assert staff.current(full) is None
    assert listed(ors_cli)[EMAIL][5:7] == ["no", "setup pending"]
    browser = Browser(create_app(runtime=catalog).test_client())
    assert browser.sign_in(EMAIL).status_code == 401
    new = "blue tractor sings at dawn"
    browser.get(setup_path(out))
    browser.post(setup_path(out), {"password": new, "password_again": new})
    signed_in: Any = browser.sign_in(EMAIL, new)
    assert signed_in.status_code == 302  # a password alone: no second factor any more
    assert signed_in.headers["Location"].endswith("/console/")


@pytest.mark.parametrize("command", ["disable", "reset"])
def test_an_unknown_account_is_refused(ors_cli: Ors, command: str) -> None:
    result = ors_cli("staff", command, "nobody@knh.example")
    assert refusal(result) == (1, "Error: no account 'nobody@knh.example' (`ors staff list`)")


def test_a_reset_never_enables_a_disabled_account(catalog: Runtime, ors_cli: Ors) -> None:
    add_clerk(ors_cli)
    ors_cli("staff", "disable", EMAIL)
    code, out, _ = ors_cli("staff", "reset", EMAIL)
    assert code == 0
    browser = Browser(create_app(runtime=catalog).test_client())
    new = "blue tractor sings at dawn"
    browser.get(setup_path(out))
    refused: Any = browser.post(setup_path(out), {"password": new, "password_again": new})
    assert refused.status_code == 400  # a disabled account's link sets nothing
    assert ors_cli("staff", "enable", EMAIL)[0] == 0
    code, out, _ = ors_cli("staff", "reset", EMAIL)
    browser.get(setup_path(out))
    browser.post(setup_path(out), {"password": new, "password_again": new})
    assert browser.sign_in(EMAIL, new).status_code == 302


def test_the_setup_page_says_why_a_password_is_refused(catalog: Runtime, ors_cli: Ors) -> None:
    out = add_clerk(ors_cli)
    browser = Browser(create_app(runtime=catalog).test_client())
    browser.get(setup_path(out) + "?lang=sw")
    refused: Any = browser.post(
        setup_path(out), {"password": "password123", "password_again": "password123"}
    )
    assert "Linahitaji angalau herufi 12." in refused.get_data(as_text=True)
