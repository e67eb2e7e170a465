"""Voice catalogues: what an IVR says around the screens' own texts, one YAML file per language.

The screens' titles, options and notices come from the message catalogues (`menus/catalogues`);
these files hold only the spoken frame ("For {label}, press {key}.", hints, goodbye). The loader
refuses a file that misses a key, has an extra one or changes a {placeholder}.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from menus.catalogue import REFERENCE, CatalogueError

VOICE_DIR = Path(__file__).with_name("catalogues") / "voice"


@dataclass(frozen=True)
class VoiceCatalogue:
    language: str
    texts: Mapping[str, str]

    def text(self, name: str, /, **params: Any) -> str:
        # Positional-only: the option frame has a {key} placeholder of its own.
        return self.texts[name].format(**params)

    def fixed(self) -> dict[str, str]:
        """Return the texts without placeholders: the ones a person can record once."""
        return {k: v for k, v in self.texts.items() if not _placeholders(v)}


def load_voice_catalogues(directory: Path = VOICE_DIR) -> dict[str, VoiceCatalogue]:
    """Load every `<code>.yaml` of `directory`, English first; raise CatalogueError if any is bad."""
    files = {path.stem: path for path in sorted(directory.glob("*.yaml"))}
    if REFERENCE not in files:
        raise CatalogueError(f"{directory}: no {REFERENCE}.yaml to check the others against")
    raw = {code: _flatten(_read(path)) for code, path in files.items()}
    problems = [p for code in raw for p in _problems(code, raw[code], raw[REFERENCE])]
    if problems:
        raise CatalogueError("; ".join(problems))
    ordered = [REFERENCE, *(code for code in raw if code != REFERENCE)]
    return {code: VoiceCatalogue(code, raw[code]) for code in ordered}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"voice/{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"voice/{path.name}: expected a mapping of keys to texts")
    return data


def _flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _problems(code: str, texts: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    where = f"voice/{code}.yaml"
    problems = [f"{where}: {k}: missing" for k in reference if k not in texts]
    problems += [f"{where}: {k}: not in {REFERENCE}.yaml" for k in texts if k not in reference]
    for key in reference.keys() & texts.keys():
        value = texts[key]
        if not isinstance(value, str):
            problems.append(f"{where}: {key}: expected text, found {type(value).__name__}")
            continue
        try:
            if _placeholders(value) != _placeholders(reference[key]):
                problems.append(f"{where}: {key}: placeholders differ from English")
        except ValueError as exc:
            problems.append(f"{where}: {key}: malformed placeholder: {exc}")
    return sorted(problems)


def _placeholders(text: str) -> list[str]:
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None})
