"""Catalogues: one file per language, each checked against English when loaded."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from menus.catalogue import CATALOGUE_DIR, Catalogue, CatalogueError, load_catalogues


def test_english_first_then_the_others(catalogues: dict[str, Catalogue]) -> None:
    assert list(catalogues) == ["en", "sw"]
    assert [c.name for c in catalogues.values()] == ["English", "Kiswahili"]


def test_every_catalogue_has_exactly_the_english_keys(catalogues: dict[str, Catalogue]) -> None:
    for cat in catalogues.values():
        assert cat.texts.keys() == catalogues["en"].texts.keys()


def test_dates_in_each_language(catalogues: dict[str, Catalogue]) -> None:
    moment = datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=3)))
    assert catalogues["en"].when(moment) == "Tue 24 Nov 09:30"
    assert catalogues["sw"].when(moment) == "Jumanne 24 Nov 09:30"
    assert catalogues["sw"].day(date(2026, 8, 2)) == "Jumapili 2 Ago"


def _copy(tmp_path: Path) -> Path:
    for path in CATALOGUE_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_new_language_needs_no_code(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    french = (
        (folder / "en.yaml").read_text(encoding="utf-8").replace("name: English", "name: Francais")
    )
    (folder / "fr.yaml").write_text(french, encoding="utf-8")
    assert list(load_catalogues(folder)) == ["en", "fr", "sw"]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("  more: Zaidi\n", "", "sw.yaml: nav.more: missing"),
        ("  more: Zaidi\n", "  more: Zaidi\n  less: Chache\n", "sw.yaml: nav.less: not in en.yaml"),
        ("chagua saa", "chagua saa {time}", "sw.yaml: book.slot: placeholders"),
        (
            "  back: Rudi",
            '  back: "Rudi [0]"',
            "sw.yaml: nav.back: characters outside GSM-7 basic: '[]'",
        ),
        ("  back: Rudi", "  back: [Rudi]", "sw.yaml: nav.back: expected text, found list"),
        ("Rudi", "Rudi…", "characters outside GSM-7 basic: '…'"),
        ("Anza upya", "“Anza upya”", "characters outside GSM-7 basic: '“”'"),
        ("  ok: Kubali", "  yes: Kubali", "sw.yaml: confirm.True: not in en.yaml"),
        ("  back: Rudi", "  back: 12", "sw.yaml: nav.back: expected text, found int"),
        ("Jumapili]", "Jumapili, Jumapili]", "calendar.days: expected a list of 7 names"),
        ("chagua saa", "chagua saa {", "sw.yaml: book.slot: malformed placeholder"),
    ],
)
def test_a_bad_catalogue_is_refused_with_the_key(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "sw.yaml", old, new)
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        load_catalogues(folder)


def test_unreadable_or_missing_reference(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=re.escape("no en.yaml")):
        load_catalogues(tmp_path)
    folder = _copy(tmp_path)
    (folder / "sw.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape("sw.yaml: expected a mapping")):
        load_catalogues(folder)
    (folder / "sw.yaml").write_text("key: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape("sw.yaml")):
        load_catalogues(folder)
