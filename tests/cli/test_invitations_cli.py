"""`ors invitations list|withdraw` (issue #18, item 2): a hospital's invitations with a header,
hospital-local times, a dependant's first name and a masked phone; withdrawing an open one."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from gateway.booking.operations.invitations import Offer
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.cli.desk import MOTHER, add, refusal
from tests.conftest import Ors

HEADER = ["REF", "PERSON", "PHONE", "DEPT", "FROM", "TO", "EXPIRES", "STATUS", "BOOKING", "BY"]
TUESDAY, THURSDAY = date(2026, 11, 24), date(2026, 11, 26)
WINDOW = Offer(window_from=TUESDAY, window_to=THURSDAY, expires=date(2026, 11, 25))


def three(rt: Runtime, ors_cli: Ors) -> tuple[str, str, str, str]:
    """An open invitation of the holder's, one of Amina's taken up, one withdrawn; and the
    booking Amina's turned into."""
    amina = add(ors_cli, "Amina")
    mine = rt.booking.invite(MOTHER, "KNH", "CARD", "dr-x", WINDOW).ref
    hers = rt.booking.invite(MOTHER, "KNH", "DERM", "dr-y", WINDOW, amina).ref
    derm = slot_id(rt, "DERM", datetime(2026, 11, 24, 9, 0))
    booked = rt.booking.book_invitation(MOTHER, hers, derm).ref
    gone = rt.booking.invite(MOTHER, "KNH", "CCC", "dr-x", WINDOW).ref
    rt.booking.withdraw_invitation(gone, "dr-x", "referred elsewhere")
    return mine, hers, gone, booked


def table(out: str) -> list[list[str]]:
    header, *lines, total = out.splitlines()
    assert header.split() == HEADER
    assert total == f"{len(lines)} invitation{'s' if len(lines) != 1 else ''}"
    return [line.split() for line in lines]


@pytest.mark.parametrize("status", [None, "open", "booked", "cancelled"])
def test_list_by_status(catalog: Runtime, ors_cli: Ors, status: str | None) -> None:
    mine, hers, gone, booked = three(catalog, ors_cli)
    # The expiry is the end of Wednesday, Nairobi time (the hospital's), whatever the server's.
    rows = {
        "open": [mine, "-", "****401", "CARD", "2026-11-24", "2026-11-26", "2026-11-26",
                 "00:00", "open", "-", "dr-x"],
        "booked": [hers, "Amina", "****401", "DERM", "2026-11-24", "2026-11-26", "2026-11-26",
                   "00:00", "booked", booked, "dr-y"],
        "cancelled": [gone, "-", "****401", "CCC", "2026-11-24", "2026-11-26", "2026-11-26",
                      "00:00", "cancelled", "-", "dr-x"],
    }  # fmt: skip
    args = ("--status", status) if status else ()

    code, out, err = ors_cli("invitations", "list", "--hospital", "knh", *args)

    assert (code, err) == (0, "")
    expected = [rows[status]] if status else list(rows.values())
    assert sorted(table(out)) == sorted(expected)
    assert MOTHER not in out


def test_list_as_json_marks_utc(catalog: Runtime, ors_cli: Ors) -> None:
    mine, *_ = three(catalog, ors_cli)
    code, out, _ = ors_cli("invitations", "list", "--hospital", "KNH", "--status", "open", "--json")
    assert code == 0
    (found,) = json.loads(out)
    assert found["ref"] == mine and found["phone"] == "****401" and found["person"] is None
    assert found["expires_at"] == "2026-11-26T00:00:00+03:00"
    assert found["expires_at_utc"] == "2026-11-25T21:00:00+00:00"
    assert (found["window_from"], found["window_to"]) == ("2026-11-24", "2026-11-26")


def test_an_empty_list_says_so_and_a_wrong_hospital_names_the_valid_ones(
    catalog: Runtime, ors_cli: Ors
) -> None:
    assert ors_cli("invitations", "list", "--hospital", "MCH") == (0, "0 invitations\n", "")
    code, line = refusal(ors_cli("invitations", "list", "--hospital", "XYZ"))
    assert code != 0 and "KNH" in line and "XYZ" in line


def test_withdraw_an_open_invitation_once(catalog: Runtime, ors_cli: Ors) -> None:
    mine, hers, _, _ = three(catalog, ors_cli)

    code, out, err = ors_cli("invitations", "withdraw", mine.lower(), "--reason", "not needed")

    assert (code, out, err) == (0, f"invitation {mine} withdrawn\n", "")
    assert catalog.booking.invitations(hospital_code="KNH", status="open") == []
    code, line = refusal(ors_cli("invitations", "withdraw", mine, "--reason", "again"))
    assert code != 0 and line.endswith("that invitation is cancelled, no longer open")
    code, line = refusal(ors_cli("invitations", "withdraw", hers, "--reason", "booked"))
    assert code != 0 and "booked" in line
    code, line = refusal(ors_cli("invitations", "withdraw", "NOSUCH23", "--reason", "x"))
    assert code != 0 and "invitation" in line
