"""SMS commands, channel-neutral: STATUS, CANCEL <T-code>, YES, STOP, START, HELP, MOVE (and
Swahili).

`parse` reads what people type — any case, extra spaces, punctuation, the code in groups or
with a T in front — and `handle` runs the command through the booking core and returns the
answer's text. The adapters only move it: Twilio in its TwiML reply, Africa's Talking through
the outbox (`queue_reply`), so it is sent with retries like every other message.

A T-code is checked (Damm) before any lookup: a mistyped code gets "that code has a typo",
never "not found". Ownership is checked before the voucher's state: a code that is not the
sender's gets the answer of an unknown code, whatever its state, so CANCEL tells a stranger
nothing about which codes exist (security review #13). A CANCEL that works has no answer here:
the cancellation writes `booking.cancelled`, whose SMS is the confirmation (one, not two).

YES (NDIO, OK) keeps the sender's voice bookings: the network vouches for an SMS sender, not
for a caller id. An answer to a phone that may not get our SMS (recipients.py) is dropped.

A phone's bookings are those of all its persons ("Me" and dependants, whose `phone` is the
holder's): STATUS lists them all (open invitations first), naming a dependant's by first name,
and CANCEL takes any of their codes. MOVE moves a dependant to a phone of their own, confirmed
from both (moves.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.booking.domain import events
from gateway.booking.domain.errors import (
    Blocked,
    BookingError,
    DeadlinePassed,
    DepartmentSameDay,
    LimitPerDay,
    NotActive,
    NotFound,
    NotOwner,
)
from gateway.booking.domain.states import VoucherState
from gateway.booking.models import Booking, Citizen, Voucher
from gateway.booking.views.confirmations import Confirmation
from gateway.booking.views.readside import UpcomingBooking
from gateway.messaging import moves, recipients
from gateway.messaging.compose import Appointment, day_of, render, when
from gateway.messaging.segments import count_segments
from gateway.messaging.texts import Texts
from tcode.codes import group, is_valid, normalize

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# keyword -> (command, language of the keyword). Opt-out words Twilio and carriers know
# (STOPALL, UNSUBSCRIBE, END, QUIT…) mean STOP here too, whatever the provider.
KEYWORDS: dict[str, tuple[str, str | None]] = {
    "STATUS": ("status", "en"),
    "HALI": ("status", "sw"),
    "CANCEL": ("cancel", "en"),
    "FUTA": ("cancel", "sw"),
    "YES": ("confirm", "en"),
    "NDIO": ("confirm", "sw"),
    "OK": ("confirm", None),
    "STOP": ("stop", "en"),
    "STOPALL": ("stop", "en"),
    "UNSUBSCRIBE": ("stop", "en"),
    "END": ("stop", "en"),
    "QUIT": ("stop", "en"),
    "OPTOUT": ("stop", "en"),
    "SIMAMA": ("stop", "sw"),
    "START": ("start", "en"),
    "UNSTOP": ("start", "en"),
    "ANZA": ("start", "sw"),
    "HELP": ("help", "en"),
    "INFO": ("help", "en"),
    "MSAADA": ("help", "sw"),
    "MOVE": ("move", "en"),
    "HAMISHA": ("move", "sw"),
}
FILLER = frozenset({"T", "CODE", "TCODE", "NO", "NUMBER", "NAMBA"})  # "CANCEL T-code 482…"
MAX_TEXT = 480  # three segments; anything longer is not a command
MAX_STATUS_SEGMENTS = 2
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    name: str  # status | cancel | confirm | stop | start | help | move | unknown
    language: str | None  # the keyword's language; None when there was no keyword
    argument: str = ""  # what followed the keyword, normalised
    # The SMS as typed: MOVE reads a name from it, accents and all.
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Inbound:
    """One inbound SMS as any provider delivers it."""

    provider: str
    phone: str
    text: str
    message_id: str
    # "stop" / "start" when the provider has already acted on an opt-out keyword itself.
    provider_keyword: str = ""


@dataclass(frozen=True)
class Answer:
    template: str
    language: str
    body: str  # "" when nothing is to be sent back


SILENT = Answer("", "", "")


def normalize_text(text: str) -> str:
    """Upper case, punctuation to spaces, spaces collapsed: "Cancel: 482-913." → "CANCEL 482 913"."""
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", text).upper().split())


def parse(text: str) -> Command:
    """Read one inbound SMS as a command (anything unknown is `unknown`)."""
    clean = normalize_text(text[:MAX_TEXT])
    match = re.match(r"([A-Z]+)\s*(.*)", clean)
    if not match:  # nothing but digits or symbols: unknown; nothing at all: help
        return Command("unknown" if text.strip() else "help", None)
    word, rest = match[1], match[2]
    if word not in KEYWORDS:
        return Command("unknown", None)
    name, language = KEYWORDS[word]
    return Command(name, language, rest, text[:MAX_TEXT])


def code_of(argument: str) -> str:
    """The digits of a T-code as typed after CANCEL ("T 482 913 5575" → "4829135575")."""
    words = [w for w in argument.split() if w not in FILLER]
    return normalize("".join(words))


def receive(runtime: Runtime, inbound: Inbound) -> tuple[str, Answer] | None:
    """Rate-limit, then handle: (the sender in E.164, the answer), or None for a message
    dropped over the phone's rate limit. Duplicate deliveries are the caller's (intake.py)."""
    gate = runtime.messaging.inbound
    phone = runtime.booking.phone(inbound.phone)
    if not gate.admit(phone):
        log.warning("inbound SMS from %s over the rate limit: dropped", phone)
        return None
    answer = handle(runtime, inbound)
    refused = recipients.number_refusal(phone, recipients.allowed_regions(runtime.settings))
    if refused is not None and answer.body:
        # The command ran (a STOP still counts); only the answer stays unsent.
        recipients.count(refused)
        return phone, SILENT
    return phone, answer


def handle(runtime: Runtime, inbound: Inbound) -> Answer:
    """Run the command in `inbound` and return the answer to send (or SILENT)."""
    phone = runtime.booking.phone(inbound.phone)
    command = parse(inbound.text)
    if inbound.provider_keyword == "stop":
        # The provider has opted the phone out and answered itself; ours would be refused.
        runtime.booking.set_reminders(phone, False)
        return SILENT
    if inbound.provider_keyword == "start":
        if command.name == "confirm":
            # Twilio reads YES as an opt-in too: record it, and still keep the bookings.
            runtime.booking.set_reminders(phone, True)
        else:
            command = Command("start", command.language or "en")
    texts = _texts(runtime, phone, command.language)
    return _RUN[command.name](runtime, phone, command, texts)


def queue_reply(runtime: Runtime, inbound: Inbound, phone: str, answer: Answer) -> None:
    """Send the answer through the outbox (a `sms.reply` event; the relay makes the message)."""
    runtime.booking.notice(
        events.sms_reply(
            f"{inbound.provider}:{inbound.message_id}"[:64],
            phone=phone,
            template=answer.template,
            language=answer.language,
            body=answer.body,
        )
    )


# --- the commands -----------------------------------------------------------------------------


def _status(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    upcoming = [b for b in runtime.booking.upcoming(phone) if b.tcode]
    # Open invitations first, as the phone menus list them: each waits for a time chosen.
    items = _invitation_items(runtime, phone, texts)
    items += [render(texts, "status_item", _appointment_of(runtime, b, texts)) for b in upcoming]
    if not items:
        return _answer(runtime, texts, "status_none")
    for shown in range(len(items), 0, -1):
        more = f" (+{len(items) - shown})" if shown < len(items) else ""
        answer = _answer(runtime, texts, "status", items="; ".join(items[:shown]) + more)
        if count_segments(answer.body) <= MAX_STATUS_SEGMENTS:
            return answer
    return answer


def _invitation_items(runtime: Runtime, phone: str, texts: Texts) -> list[str]:
    items = []
    for invitation in runtime.booking.invitations(phone=phone):
        if invitation.last_day is None:
            continue  # an invitation of one slot is booked when issued: its booking is listed
        dept = runtime.booking.catalogue.department(invitation.department_id)
        appointment = Appointment.of(
            dept, texts.language, invitation.expires_at, person=invitation.person
        )
        last = day_of(texts, invitation.last_day)
        items.append(render(texts, "status_invited", appointment, last=last))
    return items


def _cancel(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    code = code_of(command.argument)
    if not code:
        return _answer(runtime, texts, "cancel_how")
    if not is_valid(code):
        typed = group(code) if len(code) == 10 and code.isdigit() else code[:16]
        return _answer(runtime, texts, "cancel_typo", typed=typed)
    ref, state = _booking_of(runtime, code, phone)
    if ref is None:  # unknown, or someone else's: the same answer
        return _answer(runtime, texts, "cancel_unknown", typed=group(code))
    if state != VoucherState.ISSUED:
        return _answer(runtime, texts, "cancel_inactive", typed=group(code))
    try:
        runtime.booking.cancel(ref, by="citizen", reason="sms", phone=phone)
    except (NotOwner, NotFound):
        # The same answer as an unknown code: a stranger learns nothing about the booking.
        return _answer(runtime, texts, "cancel_unknown", typed=group(code))
    except NotActive:
        return _answer(runtime, texts, "cancel_inactive", typed=group(code))
    except DeadlinePassed as refused:
        return _too_late(runtime, texts, ref, refused)
    return SILENT  # the cancellation's own SMS confirms it


def _too_late(runtime: Runtime, texts: Texts, ref: str, refused: DeadlinePassed) -> Answer:
    booking = runtime.booking.booking(ref)
    appointment = _appointment_of(runtime, booking, texts)
    deadline = refused.facts["deadline"].astimezone(booking.starts_at.tzinfo)
    return _answer(runtime, texts, "cancel_too_late", appointment, deadline=when(texts, deadline))


def _confirm(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    try:
        kept = runtime.booking.confirm_claims(phone)
    except BookingError as refused:
        return _refusal(runtime, texts, refused)
    if not kept:
        return _answer(runtime, texts, "confirm_none")
    items = [render(texts, "status_item", _appointment_of(runtime, b, texts)) for b in kept]
    return _answer(runtime, texts, "confirm_kept", items="; ".join(items))


def _refusal(runtime: Runtime, texts: Texts, refused: BookingError) -> Answer:
    """Why a voice booking cannot be kept, in the sender's words."""
    if isinstance(refused, LimitPerDay):
        return _answer(runtime, texts, "confirm_limit", limit=refused.facts["limit"])
    if isinstance(refused, DepartmentSameDay):
        return _answer(runtime, texts, "confirm_same_department")
    if isinstance(refused, Blocked):
        return _answer(
            runtime, texts, "confirm_blocked", until=day_of(texts, refused.facts["until"])
        )
    return _answer(runtime, texts, "confirm_refused")


def _stop(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    runtime.booking.set_reminders(phone, False)
    return _answer(runtime, texts, "stop_ack")


def _start(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    runtime.booking.set_reminders(phone, True)
    return _answer(runtime, texts, "start_ack")


def _help(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    retention = runtime.settings.retention
    return _answer(
        runtime,
        texts,
        "help",
        body_days=str(retention.message_bodies_days),
        idle_days=str(retention.inactive_days),
    )


def _move(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    reply = moves.answer(runtime, phone, command.text, texts.language)
    if reply is None:
        return SILENT  # the move's own SMS to both phones answer it
    return _answer(runtime, texts, reply.template, None, **reply.values)


def _unknown(runtime: Runtime, phone: str, command: Command, texts: Texts) -> Answer:
    return _answer(runtime, texts, "not_understood")


_RUN = {
    "status": _status,
    "cancel": _cancel,
    "confirm": _confirm,
    "stop": _stop,
    "start": _start,
    "help": _help,
    "move": _move,
    "unknown": _unknown,
}


# --- helpers ----------------------------------------------------------------------------------


def _texts(runtime: Runtime, phone: str, keyword_language: str | None) -> Texts:
    """The keyword's language, else the citizen's, else the default."""
    texts = runtime.messaging.texts
    for language in (keyword_language, runtime.booking.language(phone)):
        if language in texts:
            return texts[language]
    return texts[runtime.settings.default_language]


def _appointment_of(
    runtime: Runtime, booking: UpcomingBooking | Confirmation, texts: Texts
) -> Appointment:
    """What an answer says of one of the phone's bookings (a dependant's names them), in the
    answer's language."""
    dept = runtime.booking.catalogue.department(booking.department_id)
    return Appointment.of(
        dept, texts.language, booking.starts_at, booking.tcode or "", booking.person
    )


def _answer(
    runtime: Runtime,
    texts: Texts,
    name: str,
    appointment: Appointment | None = None,
    **values: str,
) -> Answer:
    settings = runtime.settings
    body = render(
        texts,
        name,
        appointment,
        shortcode=settings.ussd_service_code,
        number=settings.ivr_number or settings.ussd_service_code,
        **values,
    )
    return Answer(name, texts.language, body)


def _booking_of(runtime: Runtime, code: str, phone: str) -> tuple[str | None, str | None]:
    """(booking ref, voucher state) of a T-code held by `phone`, or (None, None) — for a code
    that does not exist and for someone else's alike."""
    with runtime.reader() as session:
        row = session.execute(
            select(Booking.ref, Voucher.state)
            .join(Booking, Booking.id == Voucher.booking_id)
            .join(Citizen, Citizen.id == Booking.citizen_id)
            .where(Voucher.tcode == code, Citizen.phone == phone)
        ).first()
    return (row[0], row[1]) if row else (None, None)
