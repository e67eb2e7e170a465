"""Message catalogues: one YAML file per language, checked against English when loaded.

A hospital adds a language by dropping `<code>.yaml` next to `en.yaml`; the loader refuses a
file that misses a key, has an extra one, changes a {placeholder} or leaves GSM-7.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from menus.formats import clock
from menus.gsm7 import bad_chars
from menus.texts import Moment, Text

REFERENCE = "en"
CATALOGUE_DIR = Path(__file__).with_name("catalogues")
_CALENDAR_LISTS = {"calendar.days": 7, "calendar.months": 12}


class CatalogueError(ValueError):
    """A catalogue file is unreadable or disagrees with the English one."""


@dataclass(frozen=True)
class Catalogue:
    language: str
    texts: Mapping[str, str]
    days: tuple[str, ...]  # Monday first, as date.weekday() counts
    months: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the language's own name ("Kiswahili"), as the language menu shows it."""
        return self.texts["language.name"]

    def text(self, key: str, **params: Any) -> Text:
        return Text(self.texts[key].format(**params), key, params)

    def day(self, day: date) -> Moment:
        """Return "Tue 24 Nov" in this language."""
        shown = self.text(
            "calendar.date",
            weekday=self.days[day.weekday()],
            day=day.day,
            month=self.months[day.month - 1],
        )
        return Moment(shown, day)

    def when(self, moment: datetime) -> Moment:
        """Return "Tue 24 Nov 09:30" in this language, in the time zone `moment` carries."""
        day = self.day(moment.date())
        return Moment(self.text("calendar.when", date=day, time=clock(moment)), moment)

    def short_when(self, moment: datetime) -> Moment:
        """Return "24 Nov 09:30": `when` without the weekday, for lists of long names."""
        month = self.months[moment.month - 1]
        shown = self.text("calendar.short", day=moment.day, month=month, time=clock(moment))
        return Moment(shown, moment)


def load_catalogues(directory: Path = CATALOGUE_DIR) -> dict[str, Catalogue]:
    """Load every `<code>.yaml` of `directory`, English first; raise CatalogueError if any is bad."""
    return {code: _build(code, texts) for code, texts in read_checked(directory).items()}


def read_checked(directory: Path, label: str = "") -> dict[str, dict[str, Any]]:
    """Read every `<code>.yaml` of `directory` as flat texts, English first, each checked
    against English (same keys, same placeholders, GSM-7 basic); `label` prefixes messages."""
    files = {path.stem: path for path in sorted(directory.glob("*.yaml"))}
    if REFERENCE not in files:
        raise CatalogueError(f"{directory}: no {REFERENCE}.yaml to check the others against")
    raw = {code: _flatten(_read(path, label)) for code, path in files.items()}
    problems = [p for code in raw for p in _problems(f"{label}{code}", raw[code], raw[REFERENCE])]
    if problems:
        raise CatalogueError("; ".join(problems))
    ordered = [REFERENCE, *(code for code in raw if code != REFERENCE)]
    return {code: raw[code] for code in ordered}


def _read(path: Path, label: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{label}{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{label}{path.name}: expected a mapping of keys to texts")
    return data


def _flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        # str(key) keeps YAML 1.1 surprises visible: `yes:` becomes the key "True", which
        # then shows up as unknown instead of vanishing.
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _problems(code: str, texts: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    where = f"{code}.yaml"
    problems = [f"{where}: {k}: missing" for k in reference if k not in texts]
    problems += [f"{where}: {k}: not in {REFERENCE}.yaml" for k in texts if k not in reference]
    for key in reference.keys() & texts.keys():
        problems += [
            f"{where}: {key}: {p}" for p in _value_problems(key, texts[key], reference[key])
        ]
    return sorted(problems)


def _value_problems(key: str, value: Any, reference: Any) -> list[str]:
    if key in _CALENDAR_LISTS:
        size = _CALENDAR_LISTS[key]
        if not (isinstance(value, list) and len(value) == size):
            return [f"expected a list of {size} names"]
        return [p for item in value for p in _value_problems("", item, "")]
    if not isinstance(value, str):
        return [f"expected text, found {type(value).__name__} (quote it)"]
    problems = []
    try:
        if _placeholders(value) != _placeholders(reference):
            problems.append(f"placeholders differ from English: {_placeholders(value)}")
        if bad := bad_chars(_literal(value)):
            problems.append(f"characters outside GSM-7 basic: {bad!r}")
    except ValueError as exc:
        problems.append(f"malformed placeholder: {exc}")
    return problems


def _placeholders(text: str) -> list[str]:
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None})


def _literal(text: str) -> str:
    # The braces of {placeholders} are never shown; everything else is.
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


def _build(code: str, texts: dict[str, Any]) -> Catalogue:
    lists = {key: tuple(texts[key]) for key in _CALENDAR_LISTS}
    plain = {k: v for k, v in texts.items() if k not in _CALENDAR_LISTS}
    return Catalogue(code, plain, lists["calendar.days"], lists["calendar.months"])
