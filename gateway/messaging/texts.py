"""SMS texts per language, loaded from templates/<language>.yaml and checked once at load.

Every language must define the same templates with the same placeholders, in GSM-7 basic
characters only, so a missing translation or a stray curly quote fails at start-up, not on a
citizen's phone. A template `<name>_for` is `<name>` about a dependant's booking: it must name
them ({person}), or a parent could not tell two children's messages apart.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from menus.gsm7 import is_gsm7_basic

TEXTS_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_PARTS = ("text", "place", "place_hidden", "reason")
PERSON_VARIANT = "_for"  # suffix of the variant of a template that names a dependant


class TextsError(ValueError):
    """A template file is missing something or holds a character outside GSM-7."""


@dataclass(frozen=True)
class Template:
    name: str
    segments: int
    text: str
    place: str
    place_hidden: str
    reason: str = ""


@dataclass(frozen=True)
class Texts:
    """One language's calendar words and templates."""

    language: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    when: str
    dangling: frozenset[str]
    templates: dict[str, Template]

    def template(self, name: str) -> Template:
        return self.templates[name]


@cache
def load_texts(directory: Path = TEXTS_DIR) -> dict[str, Texts]:
    """Read every <language>.yaml in `directory`; raise TextsError naming what is wrong."""
    texts = {path.stem: _read(path) for path in sorted(directory.glob("*.yaml"))}
    if not texts:
        raise TextsError(f"{directory}: no template files")
    _check_same_shape(texts)
    _check_person_variants(next(iter(texts.values())))  # the others have the same shape
    return texts


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _read(path: Path) -> Texts:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = path.name
    calendar, templates = _mapping(raw, "calendar", where), _mapping(raw, "templates", where)
    weekdays, months = tuple(calendar.get("weekdays", ())), tuple(calendar.get("months", ()))
    if len(weekdays) != 7 or len(months) != 12:
        raise TextsError(f"{where}: calendar needs 7 weekdays and 12 months")
    texts = Texts(
        language=path.stem,
        weekdays=weekdays,
        months=months,
        when=str(calendar.get("when", "")),
        dangling=frozenset(str(w).lower() for w in calendar.get("dangling", ())),
        templates={name: _template(name, spec, where) for name, spec in templates.items()},
    )
    for text in (*weekdays, *months, texts.when):
        _check_gsm7(str(text), f"{where}: calendar")
    return texts


def _template(name: str, spec: Any, where: str) -> Template:
    if not isinstance(spec, dict) or not isinstance(spec.get("segments"), int):
        raise TextsError(f"{where}: templates.{name} needs `segments` and `text`")
    parts = {part: str(spec.get(part, "")) for part in TEMPLATE_PARTS}
    for part, text in parts.items():
        _check_gsm7(text, f"{where}: templates.{name}.{part}")
    if not parts["text"]:
        raise TextsError(f"{where}: templates.{name}.text is missing")
    return Template(name=name, segments=spec["segments"], **parts)


def _mapping(raw: Any, key: str, where: str) -> dict[str, Any]:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, dict):
        raise TextsError(f"{where}: `{key}` must be a mapping")
    return value


def _check_gsm7(text: str, where: str) -> None:
    """Check the literal text around the {placeholders} (whose braces are not sent)."""
    text = "".join(literal for literal, _, _, _ in string.Formatter().parse(text))
    if not is_gsm7_basic(text):
        bad = sorted({c for c in text if not is_gsm7_basic(c)})
        raise TextsError(f"{where}: characters outside GSM-7 basic: {''.join(bad)!r}")


def _check_same_shape(texts: dict[str, Texts]) -> None:
    first = next(iter(texts.values()))
    for other in texts.values():
        if set(other.templates) != set(first.templates):
            raise TextsError(f"{other.language}.yaml: templates differ from {first.language}.yaml")
        for name, template in first.templates.items():
            for part in TEMPLATE_PARTS:
                ours = placeholders(getattr(template, part))
                theirs = placeholders(getattr(other.templates[name], part))
                if ours != theirs:
                    raise TextsError(
                        f"{other.language}.yaml: templates.{name}.{part} placeholders "
                        f"{sorted(theirs)} differ from {first.language}.yaml {sorted(ours)}"
                    )


def _check_person_variants(texts: Texts) -> None:
    """Every `<name>_for` varies a template of that name and shows the person's name."""
    for name, template in texts.templates.items():
        if not name.endswith(PERSON_VARIANT):
            continue
        if name.removesuffix(PERSON_VARIANT) not in texts.templates:
            raise TextsError(f"templates.{name}: no template {name.removesuffix(PERSON_VARIANT)}")
        if "person" not in placeholders(template.text):
            raise TextsError(f"templates.{name}.text must show {{person}}")
