"""Who the appointment is for: the phone's holder ("Me") or one of the dependants it books for.

"Book" asks only when the phone has dependants, so a phone without any sees the screens it
always saw; "My family" on the main menu asks in any case, so such a phone can add someone.
A USSD caller may add a dependant by first name; a voice caller only chooses, and hears a
dependant as "Person 2" (a name typed on a keypad has no recording, and speech must not
spell it).
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from menus.context import Context
from menus.flow import Go, Screen, Skip, View
from menus.ports import ME, PersonChoice, Refused
from menus.reply import Option
from menus.screens.voice_privacy import on_voice

ADD = "add"  # the option id beside the persons' own
# session.chosen keys: the dependant being booked for (absent for "Me"), their first name,
# and their place in the list (1 is "Me"), which voice says instead of the name.
PERSON, PERSON_NAME, PERSON_NUMBER = "person", "person_name", "person_number"
NEXT = "city"  # where the booking goes on once the person is known


def chosen_person(ctx: Context) -> str | None:
    """The id of the dependant this session books for; None: the phone's holder."""
    return ctx.session.chosen.get(PERSON)


def choose(ctx: Context, person: PersonChoice | None, number: int | None = None) -> None:
    """Book for `person` from now on (None or the holder: "Me"); `number`: their place in
    the list, which voice says (a person added on USSD is never said over voice)."""
    chosen = ctx.session.chosen
    for key in (PERSON, PERSON_NAME, PERSON_NUMBER):
        chosen.pop(key, None)
    if person is None or person.me:
        return
    chosen.update({PERSON: person.id, PERSON_NAME: person.name})
    if number is not None:
        chosen[PERSON_NUMBER] = str(number)


def choose_by_id(ctx: Context, person_id: str | None) -> None:
    """Book for the person with this id (a held place's; None: "Me")."""
    found = _numbered(ctx.persons()) if person_id is not None else []
    for number, person in found:
        if person.id == person_id:
            choose(ctx, person, number)
            return
    choose(ctx, None)
    if person_id is not None:
        # No longer shown (hidden at the desk meanwhile): the core refuses the booking,
        # rather than the place held for them going to someone else of the phone.
        ctx.session.chosen[PERSON] = person_id


def said(ctx: Context, name: str | None) -> str | None:
    """How this channel names a dependant (None: the phone's holder, named nowhere)."""
    if not name:
        return None
    if not on_voice(ctx):
        return name
    chosen = ctx.session.chosen
    if chosen.get(PERSON_NAME) == name and PERSON_NUMBER in chosen:
        # A number, so a voice says it in words ("Person two"), from recordings too.
        return ctx.t("person.voice", number=int(chosen[PERSON_NUMBER]))
    found = _numbered(ctx.persons())
    number = next((n for n, p in found if not p.me and p.name == name), None)
    return ctx.t("person.other") if number is None else ctx.t("person.voice", number=number)


def said_refusal(ctx: Context, refused: Refused) -> Refused:
    """The refusal with its `person` fact as this channel may say it."""
    name = refused.params.get("person")
    if not name or not on_voice(ctx):
        return refused
    return Refused(refused.code, **{**refused.params, "person": said(ctx, name)})


def _numbered(persons: list[PersonChoice]) -> list[tuple[int, PersonChoice]]:
    return list(enumerate(persons, start=1))


def _label(ctx: Context, person: PersonChoice, number: int) -> str:
    if person.me:
        return ctx.t("person.me")
    return ctx.t("person.voice", number=number) if on_voice(ctx) else person.name


def _question(skip_alone: bool) -> Screen:
    """Build the question; `skip_alone`: books for "Me" unasked when there is no one else."""

    def show(ctx: Context) -> View | Skip:
        _check_phone_block(ctx, skip_alone)
        if skip_alone and not ctx.session.household:
            return Skip(ME)  # known since the first hop: no read
        persons = _numbered(ctx.persons())
        if skip_alone and len(persons) <= 1:
            return Skip(ME)
        options = [Option(ME if p.me else p.id, _label(ctx, p, n)) for n, p in persons]
        if not on_voice(ctx):  # adding needs a keypad for the name (or the desk)
            options.append(Option(ADD, ctx.t("person.add")))
        return View((ctx.t("person.title"),), tuple(options))

    def act(ctx: Context, option_id: str) -> Go:
        if option_id == ADD:
            return Go("person_add")
        if option_id == ME and skip_alone and not ctx.session.household:
            choose(ctx, None)  # "Book" of a phone without dependants: checked on show
            return Go(NEXT)
        for number, person in _numbered(ctx.persons()):
            if (person.me and option_id == ME) or person.id == option_id:
                _check_person_block(person)
                choose(ctx, person, number)
                return Go(NEXT)
        raise Refused("not_found")  # hidden meanwhile, at the desk

    name = "person" if skip_alone else "family"
    # A blocked person is refused when chosen, and the question asked again: another of the
    # phone's persons may book.
    return Screen(
        name,
        show,
        act,
        leads_to=frozenset({NEXT, "person_add"}),
        after_refusal=MappingProxyType({"blocked": name}),
    )


def _check_phone_block(ctx: Context, booking: bool) -> None:
    """Refuse "Book" (`booking`) of a blocked caller, or any choice on a blocked phone with
    dependants, before anything is chosen. "My family" of a phone without dependants lets a
    blocked holder add someone: their own block is refused when they choose themselves."""
    until = ctx.session.blocked_until
    if until is not None and (booking or ctx.session.household):
        raise Refused("blocked", until=date.fromisoformat(until))


def _check_person_block(person: PersonChoice) -> None:
    if person.blocked_until is not None:
        name = None if person.me else person.name
        raise Refused("blocked", until=person.blocked_until, **({"person": name} if name else {}))


def _show_add(ctx: Context) -> View:
    return View((ctx.t("person.name"),), input_kind="text")


def _act_add(ctx: Context, typed: str) -> Go:
    added = ctx.port.add_person(ctx.phone, typed)
    ctx.added_person()
    if not ctx.session.household:
        # The block known was the holder's own: from now on it is refused when they choose
        # themselves, not for the person just added.
        ctx.session.blocked_until = None
    ctx.session.household = True
    choose(ctx, added)
    return Go(NEXT, notice=ctx.t("person.added", person=added.name))


SCREENS = (
    _question(skip_alone=True),
    _question(skip_alone=False),
    # A name the core refuses is asked again; a phone that may add no one more chooses
    # among the persons it has.
    Screen(
        "person_add",
        _show_add,
        _act_add,
        leads_to=frozenset({NEXT}),
        after_refusal=MappingProxyType({"invalid_name": "person_add", "person_limit": "family"}),
    ),
)
