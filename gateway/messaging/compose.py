"""Render an SMS from a template: fill it, then fit it into its segment budget.

Only names give way: the staff's reason first, then the department name, each cut at a word
boundary and tidied ("Obstetrics and Gynaecology" → "Obstetrics"); when nothing of a name is
left the hospital's short name stands alone. The T-code, the reply code, the link and the
person's name are never cut.

Hospitals and departments are named in the recipient's language: a hospital by its short SMS
name (the catalogue's `sms_name`, never the code staff type), a department by its name
(`Appointment.of`).

A dependant's booking names them: its text is the template's `<name>_for` variant, which shows
{person}, their first name (the phone's holder, "Me", is never named, so a phone without
dependants reads as it always has). A text that names no booking has no such variant.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from gateway.booking.domain.departments import DepartmentInfo
from gateway.gsm7 import to_gsm7
from gateway.messaging.segments import capacity, count_segments
from gateway.messaging.texts import PERSON_VARIANT, Template, Texts
from tcode.codes import group

SHRINK_ORDER = ("reason", "department")
TRAILING = " ,;:-/&("
MIN_NAME = 3  # a name cut shorter than this says nothing: drop it
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Appointment:
    """What an SMS may say about a booking (no medical detail beyond the department)."""

    hospital: str  # the short name SMS use (DepartmentInfo.sms_name_in), never a code
    department: str
    sensitive: bool
    starts_at: datetime  # hospital-local
    tcode: str = ""  # empty for a place that has no voucher yet (a held slot)
    person: str | None = None  # a dependant's first name; None for the phone's holder ("Me")

    @classmethod
    def of(
        cls,
        dept: DepartmentInfo,
        language: str,
        starts_at: datetime,
        tcode: str = "",
        person: str | None = None,
    ) -> Appointment:
        """An appointment at `dept`, its names in `language` (the catalogue's, else as given)."""
        return cls(
            dept.sms_name_in(language),
            dept.name_in(language),
            dept.sensitive,
            starts_at,
            tcode,
            person,
        )


def when(texts: Texts, moment: datetime) -> str:
    """Return "Tue 24 Nov 09:30" in the language of `texts`, at the hospital's local time."""
    return texts.when.format(
        weekday=texts.weekdays[moment.weekday()],
        day=moment.day,
        month=texts.months[moment.month - 1],
        time=f"{moment:%H:%M}",
    )


def day_of(texts: Texts, day: date) -> str:
    """Return "Tue 24 Nov" in the language of `texts` (a day without a time)."""
    return f"{texts.weekdays[day.weekday()]} {day.day} {texts.months[day.month - 1]}"


def render(
    texts: Texts,
    name: str,
    appointment: Appointment | None = None,
    *,
    link: str = "",
    shortcode: str = "",
    reason: str = "",
    **extra: object,
) -> str:
    """Return the SMS text of template `name`, shortened to fit its segment budget.

    `extra` fills the template's other placeholders (a phone number, minutes, a list…); they
    are never shortened.
    """
    values = {
        **_appointment_values(texts, appointment),
        "link": link,
        "shortcode": shortcode,
        # The template ends the reason with its own full stop.
        "reason": to_gsm7(reason).rstrip(" .!;,"),
        **{key: to_gsm7(str(value)) for key, value in extra.items()},
    }
    template = _variant(texts, name, values["person"])
    sensitive = appointment.sensitive if appointment else False
    budget = capacity(template.segments)
    for field in SHRINK_ORDER:
        body = fill(template, values, sensitive)
        excess = len(body) - budget
        if excess <= 0:
            return body
        values[field] = shorten(values[field], len(values[field]) - excess, texts.dangling)
    body = fill(template, values, sensitive)
    if count_segments(body) > template.segments:
        log.warning(
            "SMS %s/%s is %d characters, over its budget of %d segment(s)",
            texts.language,
            name,
            len(body),
            template.segments,
        )
    return body


def _variant(texts: Texts, name: str, person: str) -> Template:
    """Template `name`, or its variant naming `person` when the booking is a dependant's (a
    text that names no booking, like `claim`, has none)."""
    if person:
        return texts.templates.get(name + PERSON_VARIANT) or texts.template(name)
    return texts.template(name)


def _appointment_values(texts: Texts, appointment: Appointment | None) -> dict[str, str]:
    if appointment is None:
        return dict.fromkeys(("hospital", "department", "when", "tcode", "code", "person"), "")
    return {
        "hospital": appointment.hospital,
        "department": "" if appointment.sensitive else to_gsm7(appointment.department),
        "when": when(texts, appointment.starts_at),
        "tcode": group(appointment.tcode) if appointment.tcode else "",
        "code": appointment.tcode,
        "person": to_gsm7(appointment.person or ""),
    }


def fill(template: Template, values: dict[str, str], sensitive: bool) -> str:
    place = (template.place_hidden if sensitive else template.place).format(**values)
    reason = template.reason.format(**values) if values["reason"] and template.reason else ""
    body = template.text.format(**{**values, "place": place, "reason": reason})
    # An emptied name leaves a double space ("KNH  Tue"): close it up.
    return re.sub(r" {2,}", " ", body).strip()


def shorten(name: str, limit: int, dangling: frozenset[str]) -> str:
    """Cut `name` to at most `limit` characters at a word boundary, tidily, or to ""."""
    if len(name) <= limit:
        return name
    words = name.split()
    while words and len(" ".join(words)) > limit:
        words.pop()
    return _tidy(" ".join(words), dangling)


def _tidy(text: str, dangling: frozenset[str]) -> str:
    """Drop what a cut leaves hanging: an open "(…", trailing punctuation, "and"/"of"/"na"."""
    while True:
        before = text
        if text.count("(") > text.count(")"):
            text = text[: text.rindex("(")]
        text = text.rstrip(TRAILING)
        head, _, last = text.rpartition(" ")
        if last.lower() in dangling:
            text = head
        if text == before:
            break
    return text if len(text) >= MIN_NAME else ""
