"""The MOVE command (Swahili HAMISHA): a dependant moves to a phone of their own, confirmed
from both phones.

From the guardian's phone, `MOVE <name> <new number>` finds the dependant of that name (the
full name, else the first name; any case, accents or punctuation) and has the new phone texted
a code; from the new phone, `MOVE <code>` confirms it. Every refusal is an answer that names no
one beyond the names on the asking phone, and nothing here is logged (phones, codes and names
are personal).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.booking.domain.errors import CodeLimit, InvalidPhone, NotFound, PhoneInUse
from gateway.booking.operations.person_moves import CODE_DIGITS, MAX_TRIES
from gateway.booking.sql.persons import PersonInfo
from gateway.messaging import recipients

if TYPE_CHECKING:
    from gateway.runtime import Runtime

TYPED_MAX = 20  # of a typed name or number repeated in an answer
_KEYWORD = re.compile(r"^[^A-Za-z]*[A-Za-z]+")
_NAME_THEN_NUMBER = re.compile(r"(?P<name>[^0-9+]*)(?P<number>.*)", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """An answer to send: its template and the values it shows."""

    template: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """What followed the keyword: a name and a number (ask), or a code alone (confirm)."""

    name: str
    number: str  # as typed, "+" kept
    digits: str  # the number's digits only


def read(text: str) -> Request:
    """Split an SMS "MOVE Amina 0712 345 678" (or "MOVE 4821") after its keyword."""
    rest = _KEYWORD.sub("", text, count=1).strip()
    match = _NAME_THEN_NUMBER.match(rest)
    name, number = (match["name"], match["number"]) if match else ("", "")
    name = " ".join(re.sub(r"[^\w'-]+", " ", name).split()).strip(" '-")
    return Request(name, number.strip(), re.sub(r"\D", "", number))


def answer(runtime: Runtime, phone: str, text: str, language: str) -> Reply | None:
    """Run MOVE from `phone` (E.164); None when the move's own SMS are the answer."""
    request = read(text)
    if not request.name and len(request.digits) == CODE_DIGITS:
        return _confirm(runtime, phone, request.digits, language)
    if not request.name or not request.digits:
        return Reply("move_how")
    return _ask(runtime, phone, request, language)


def matching(persons: Sequence[PersonInfo], typed: str) -> list[PersonInfo]:
    """The dependants a typed name means: those of that full name, else of that first name."""
    dependants = [p for p in persons if not p.me]
    key = _key(typed)
    full = [p for p in dependants if _key(p.name or "") == key]
    return full or [p for p in dependants if _key(p.first_name) == key]


def _ask(runtime: Runtime, phone: str, request: Request, language: str) -> Reply:
    dependants = [p for p in runtime.booking.persons(phone) if not p.me]
    if not dependants:
        return Reply("move_no_one")
    found = matching(dependants, request.name)
    if len(found) != 1:
        template = "move_unknown" if not found else "move_ambiguous"
        names = ", ".join(p.name or "" for p in dependants)
        return Reply(template, {"typed": request.name[:TYPED_MAX], "names": names})
    new_phone = _phone(runtime, request.number)
    if new_phone is None:
        return Reply("move_bad_phone", {"typed": request.number[:TYPED_MAX]})
    person, last3 = found[0], new_phone[-3:]
    try:
        who = runtime.booking.request_person_move(phone, person.id, new_phone, language)
    except NotFound:  # hidden since the list above was read
        names = ", ".join(p.name or "" for p in dependants if p.id != person.id)
        return Reply("move_unknown", {"typed": request.name[:TYPED_MAX], "names": names})
    except PhoneInUse:
        return Reply("move_in_use", {"who": person.first_name, "last3": last3})
    except CodeLimit:
        return Reply("move_limit")
    return Reply("move_sent", {"who": who, "last3": last3})


def _confirm(runtime: Runtime, phone: str, digits: str, language: str) -> Reply | None:
    done = runtime.booking.confirm_person_move(phone, digits, language)
    replies = {
        "moved": None,  # both phones get the move's own SMS (person.moved)
        "wrong": Reply("move_wrong", {"left": str(done.tries_left)}),
        "dropped": Reply("move_dropped", {"tries": str(MAX_TRIES)}),
        "spent": Reply("move_spent"),
        "taken": Reply("move_taken", {"who": done.person}),
    }
    return replies[done.outcome]


def _phone(runtime: Runtime, number: str) -> str | None:
    """The new number in E.164, if it is one we may text."""
    try:
        e164 = runtime.booking.phone(number)
    except InvalidPhone:
        return None
    allowed = recipients.allowed_regions(runtime.settings)
    return e164 if recipients.number_refusal(e164, allowed) is None else None


def _key(name: str) -> str:
    """A name as compared: accents, case and punctuation aside ("Zoé-Ann" == "zoe ann")."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", plain))
