"""`ors citizens register|persons|hide|move|unblock --person`: the persons of a phone at the
desk, run in-process on the test runtime (both backends): effects, audit, refusals, exit codes.
A person registered without a phone has only an id: unblock, export and erase take `--person`."""

from __future__ import annotations

import getpass
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select, update

from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from tests.booking.conftest import staff_actions, use_id_hash_key
from tests.cli.desk import MOTHER, add, card, no_phone, person_id, refusal
from tests.conftest import Ors

OTHER, NEW = "+254700000402", "+254700000403"
ME = getpass.getuser()


def with_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_register_a_dependant_with_a_birth_year(catalog: Runtime, ors_cli: Ors) -> None:
    code, out, err = ors_cli(
        "citizens", "register", "--guardian", "0700000401", "--name", "amina",
        "--birth-year", "2019", "--by", ME,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "added Amina as a dependant of that phone"
    amina = person_id(out)
    assert [(p.id, p.first_name, p.me, p.birth_year) for p in catalog.booking.persons(MOTHER)][
        1:
    ] == [(amina, "Amina", False, 2019)]
    assert [(a.actor, a.action, a.subject) for a in staff_actions(catalog)] == [
        (ME, "add_person", str(amina))
    ]


def test_register_a_person_without_a_phone(catalog: Runtime, ors_cli: Ors) -> None:
    code, out, _ = ors_cli(
        "citizens", "register", "--no-phone", "--name", "Mzee Juma", "--birth-year", "1950",
        "--by", "desk-1",
    )  # fmt: skip
    assert code == 0 and out.startswith(
        "registered Mzee Juma without a phone: print their vouchers"
    )
    juma = person_id(out)
    with catalog.reader() as s:
        row = s.get_one(Citizen, juma)
    assert (row.name, row.birth_year, row.guardian_id) == ("Mzee Juma", 1950, None)
    assert not row.phone.startswith("+")
    assert [(a.action, a.subject) for a in staff_actions(catalog)] == [
        ("register_person", str(juma))
    ]


def test_register_the_holder_by_real_name_reads_the_id_from_stdin(
    catalog: Runtime, ors_cli: Ors, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_id_hash_key(catalog)
    with_stdin(monkeypatch, "12345678\n")
    code, out, err = ors_cli(
        "citizens", "register", "--phone", MOTHER, "--name", "Achieng Otieno", "--id-stdin",
        "--by", ME,
    )  # fmt: skip
    assert (code, err) == (0, "") and "12345678" not in out  # never echoed
    assert out.splitlines()[0] == "registered Achieng Otieno as the phone's holder"
    me = catalog.booking.persons(MOTHER)[0]
    assert (person_id(out), me.name, me.me) == (me.id, "Achieng Otieno", True)
    with catalog.reader() as s:
        assert s.get_one(Citizen, me.id).national_id_last3 == "678"
    assert [(a.action, a.subject) for a in staff_actions(catalog)] == [("register", str(me.id))]
    # The same ID for another phone is someone else's: one clear line.
    with_stdin(monkeypatch, "12345678\n")
    refused = ors_cli(
        "citizens", "register", "--phone", OTHER, "--name", "Baraka Otieno", "--id-stdin"
    )
    assert refusal(refused) == (
        1,
        "Error: that national ID belongs to someone else (`ors citizens reassign-id` moves it)",
    )


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["--guardian", MOTHER, "--name", "R2D2"],
            "",
            (1, "Error: that is not a first name (letters only, at most 20)"),
        ),
        (
            ["--guardian", MOTHER, "--name", "Amina", "--birth-year", "1850"],
            "",
            (1, "Error: that is not a birth year (1900 to this year)"),
        ),
        (
            ["--guardian", MOTHER, "--name", "Amina", "--birth-year", "3000"],
            "",
            (1, "Error: that is not a birth year (1900 to this year)"),
        ),
        (
            ["--guardian", "12", "--name", "Amina"],
            "",
            (1, "Error: that is not a phone number"),
        ),
        (
            ["--guardian", MOTHER, "--name", "Amina", "--id-stdin"],
            "not an id!\n",
            (1, "Error: that is not a national ID (5 to 20 letters and digits)"),
        ),
        (
            ["--no-phone", "--name", "Juma", "--id-stdin"],
            "",
            (1, "Error: no national ID on stdin (--id-stdin)"),
        ),
    ],
    ids=["invalid-name", "born-too-early", "born-in-the-future", "bad-phone", "bad-id", "no-id"],
)
def test_register_refusals(
    catalog: Runtime,
    ors_cli: Ors,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    stdin: str,
    expected: tuple[int, str],
) -> None:
    use_id_hash_key(catalog)
    with_stdin(monkeypatch, stdin)
    assert refusal(ors_cli("citizens", "register", *args)) == expected
    assert [p.me for p in catalog.booking.persons(MOTHER)] == [True]  # nobody added


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--name", "Amina"], "give one of --phone, --guardian or --no-phone"),
        (["--name", "Amina", "--no-phone", "--guardian", MOTHER], "give one of"),
        (["--name", "Achieng", "--phone", MOTHER], "add --id-stdin"),
        (["--name", "Achieng", "--phone", MOTHER, "--id-stdin", "--birth-year", "1990"], "minor"),
        (["--name", "Amina", "--no-phone", "--birth-year", "soon"], "'soon' is not a valid"),
    ],
    ids=["no-mode", "two-modes", "holder-without-id", "holder-with-birth-year", "bad-year"],
)
def test_register_usage_errors_exit_2(
    catalog: Runtime, ors_cli: Ors, args: list[str], says: str
) -> None:
    code, out, err = ors_cli("citizens", "register", *args)
    assert code == 2 and out == "" and (says in err or (says == "minor" and "--birth-year" in err))


def test_the_person_limit_is_one_clear_line(catalog: Runtime, ors_cli: Ors) -> None:
    for name in ("Amina", "Baraka", "Chiku", "Dalila", "Eshe"):
        add(ors_cli, name)
    assert refusal(ors_cli("citizens", "register", "--guardian", MOTHER, "--name", "Fumo")) == (
        1,
        "Error: that phone cannot take another person (at most 5)",
    )


def test_persons_lists_me_and_dependants_as_text_and_json(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina", "--birth-year", "2019")
    baraka = add(ors_cli, "Baraka")
    me = catalog.booking.persons(MOTHER)[0].id
    code, out, _ = ors_cli("citizens", "persons", "0700000401")
    assert code == 0
    assert out.splitlines() == [
        "    ID  WHO        BORN  NAME",
        f"{me:>6}  me         -     -",
        f"{amina:>6}  dependant  2019  Amina",
        f"{baraka:>6}  dependant  -     Baraka",
    ]
    code, out, _ = ors_cli("citizens", "persons", MOTHER, "--json")
    assert code == 0 and json.loads(out) == [
        {"id": me, "first_name": None, "me": True, "birth_year": None},
        {"id": amina, "first_name": "Amina", "me": False, "birth_year": 2019},
        {"id": baraka, "first_name": "Baraka", "me": False, "birth_year": None},
    ]
    assert refusal(ors_cli("citizens", "persons", OTHER)) == (
        1,
        "Error: no citizen with that phone",
    )
    assert refusal(ors_cli("citizens", "persons", "12")) == (1, "Error: that is not a phone number")


def test_hide_a_dependant(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina")
    me = catalog.booking.persons(MOTHER)[0].id
    code, out, _ = ors_cli("citizens", "hide", MOTHER, "--person", str(amina), "--by", ME)
    assert (code, out) == (0, f"person {amina} hidden\n")
    assert [p.id for p in catalog.booking.persons(MOTHER)] == [me]
    assert [(a.action, a.subject) for a in staff_actions(catalog)][-1] == (
        "hide_person",
        str(amina),
    )
    for who in (amina, me, 999_999):  # hidden already, "Me" (never hidden), nobody
        assert refusal(ors_cli("citizens", "hide", MOTHER, "--person", str(who))) == (
            1,
            "Error: no such person",
        )


def test_move_a_grown_child_to_her_own_phone(catalog: Runtime, ors_cli: Ors) -> None:
    amina = add(ors_cli, "Amina")
    future = catalog.booking.book(MOTHER, card(catalog, 25), "ussd", person_id=amina)
    code, out, err = ors_cli(
        "citizens", "move", "--person", str(amina), "--phone", NEW, "--reason", "her own SIM",
        "--by", ME,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"person {amina} moved to that phone with their future bookings"
    holder = person_id(out)
    assert [(p.id, p.first_name, p.me) for p in catalog.booking.persons(NEW)] == [
        (holder, "Amina", True)
    ]
    assert [b.ref for b in catalog.booking.upcoming(NEW)] == [future.ref]
    assert ("move_person", str(amina), "her own SIM") in [
        (a.action, a.subject, a.reason) for a in staff_actions(catalog)
    ]


@pytest.mark.parametrize(
    ("who", "phone", "says"),
    [
        ("baraka", OTHER, "Error: that phone already belongs to someone"),
        ("me", NEW, "Error: no such person"),
        ("nobody", NEW, "Error: no such person"),
        ("baraka", "12", "Error: that is not a phone number"),
    ],
    ids=["phone-in-use", "me-cannot-move", "unknown-person", "bad-phone"],
)
def test_move_refusals(catalog: Runtime, ors_cli: Ors, who: str, phone: str, says: str) -> None:
    ids = {"baraka": add(ors_cli, "Baraka"), "nobody": 999_999}
    ids["me"] = catalog.booking.persons(MOTHER)[0].id
    catalog.booking.book(OTHER, card(catalog, 24), "ussd")  # OTHER is somebody's phone already
    moved = ors_cli(
        "citizens", "move", "--person", str(ids[who]), "--phone", phone, "--reason", "x"
    )
    assert refusal(moved) == (1, says)


def test_unblock_one_person_of_the_phone(catalog: Runtime, ors_cli: Ors) -> None:
    bibi = add(ors_cli, "Bibi")
    with catalog.writer() as s:
        until = datetime(2026, 12, 20, tzinfo=catalog.clock.now().tzinfo)
        s.execute(update(Citizen).where(Citizen.id == bibi).values(blocked_until=until))
        s.commit()
    refused = ors_cli("bookings", "book", "--person", str(bibi), "--slot", str(card(catalog, 24)))
    assert refusal(refused) == (1, "Error: Bibi may not book until 2026-12-20")
    code, out, _ = ors_cli(
        "citizens", "unblock", MOTHER, "--person", str(bibi), "--reason", "bus strike"
    )
    assert (code, out) == (0, "block lifted\n")
    with catalog.reader() as s:
        assert s.scalars(select(Citizen.blocked_until).where(Citizen.id == bibi)).one() is None
    code, _, err = ors_cli("citizens", "unblock", OTHER, "--person", str(bibi), "--reason", "x")
    assert code == 2 and err == "ors: no such person\n"  # a sentence, as every command says


def block(rt: Runtime, person: int) -> None:
    with rt.writer() as s:
        until = datetime(2026, 12, 20, tzinfo=rt.clock.now().tzinfo)
        s.execute(update(Citizen).where(Citizen.id == person).values(blocked_until=until))
        s.commit()


def blocked_until(rt: Runtime, person: int) -> datetime | None:
    with rt.reader() as s:
        return s.scalars(select(Citizen.blocked_until).where(Citizen.id == person)).one()


@pytest.mark.parametrize("who", ["without a phone", "a dependant", "me"])
def test_unblock_a_person_by_id_alone(catalog: Runtime, ors_cli: Ors, who: str) -> None:
    # The sweep blocks a person without a phone as anyone; their placeholder is no PHONE to type.
    ids = {"without a phone": no_phone(ors_cli, "Mzee"), "a dependant": add(ors_cli, "Bibi")}
    ids["me"] = catalog.booking.persons(MOTHER)[0].id
    person = ids[who]
    block(catalog, person)
    code, out, err = ors_cli(
        "citizens", "unblock", "--person", str(person), "--reason", "bus strike", "--by", ME
    )
    assert (code, out, err) == (0, "block lifted\n", "")
    assert blocked_until(catalog, person) is None
    assert [(a.actor, a.action, a.reason) for a in staff_actions(catalog)][-1] == (
        ME,
        "unblock",
        "bus strike",
    )
    again = ors_cli("citizens", "unblock", "--person", str(person), "--reason", "x")
    assert again == (2, "", "ors: there is no block to lift\n")  # as it says for a phone


def test_unblock_by_id_finds_nobody_unknown_or_erased(catalog: Runtime, ors_cli: Ors) -> None:
    bibi = add(ors_cli, "Bibi")
    block(catalog, bibi)
    with catalog.writer() as s:  # as an erasure leaves a dependant
        s.execute(
            update(Citizen)
            .where(Citizen.id == bibi)
            .values(phone=f"~{bibi}", name=None, anonymised_at=catalog.clock.now())
        )
        s.commit()
    with catalog.reader() as s:
        before = s.scalars(select(Citizen.id).order_by(Citizen.id)).all()
    for who in (999_999, bibi):
        unblocked = ors_cli("citizens", "unblock", "--person", str(who), "--reason", "x")
        assert unblocked == (2, "", "ors: no such person\n")
    with catalog.reader() as s:
        assert s.scalars(select(Citizen.id).order_by(Citizen.id)).all() == before  # none made


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["unblock", "--reason", "x"], "give a PHONE, --person ID or both"),
        (["export"], "give a PHONE or --person ID (not both)"),
        (["export", MOTHER, "--person", "1"], "give a PHONE or --person ID (not both)"),
        (["erase", "--reason", "x"], "give a PHONE or --person ID (not both)"),
        (
            ["erase", MOTHER, "--person", "1", "--reason", "x"],
            "give a PHONE or --person ID (not both)",
        ),
    ],
    ids=["unblock-neither", "export-neither", "export-both", "erase-neither", "erase-both"],
)
def test_a_phone_or_a_person_usage_errors_exit_2(
    catalog: Runtime, ors_cli: Ors, args: list[str], says: str
) -> None:
    code, out, err = ors_cli("citizens", *args)
    assert (code, out) == (2, "") and f"Error: {says}" in err
