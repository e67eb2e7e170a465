"""The source cites only documents in the repository.

Comments, docstrings and docs point at the README's sections, docs/, deploy/README.md, the
module that implements a thing, or a provider's own public documentation by name. The team's
notes kept outside the repository (its design, its channel protocol notes, its reviews, its
style guide) are no help to a reader of the repository, so citing one fails here, naming the
file and line. The patterns are built from pieces so that this file does not cite them itself.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_MD = r"\.md\b"
CITATIONS = re.compile(
    "|".join(
        (
            r"\b" + "DES" + r"IGN\b",  # the design, by section or file name
            r"\bchannels" + _MD,  # the provider protocol notes
            r"\bsecurity" + "-" + "review",
            r"\bcode" + "-" + "review",
            r"\bstyle" + _MD,
        )
    )
)

# Directories that hold no project source even when present in a working tree.
SKIPPED_DIRS = {".venv", ".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}


def _repository_files() -> list[Path]:
    """Tracked files plus new ones not ignored; every file under ROOT when git is missing."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode("utf-8")
    except (OSError, subprocess.SubprocessError):
        return [
            path
            for path in ROOT.rglob("*")
            if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in listed.split("\0") if name]


def _citations(root: Path, paths: list[Path]) -> Iterator[str]:
    """`file:line: citation in line` for every citation, the file named relative to `root`."""
    for path in paths:
        if not path.is_file():  # listed by git but deleted in the working tree
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images and other binaries cite nothing
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            found = CITATIONS.search(line)
            if found:
                yield f"{path.relative_to(root)}:{number}: {found.group()!r} in {line.strip()!r}"


def test_no_file_cites_a_document_outside_the_repository() -> None:
    files = _repository_files()
    assert any(path.name == "README.md" for path in files)  # the walk found the repository
    assert list(_citations(ROOT, files)) == []


def test_the_patterns_catch_each_kind_of_citation(tmp_path: Path) -> None:
    cited = {
        "design_section.py": "# the rules of " + "DES" + "IGN §4",
        "design_file.md": "see " + "DES" + "IGN.md",
        "protocols.py": '"""AT incoming SMS (' + "channels" + '.md §3.3)."""',
        "security.md": "(" + "security" + "-" + "review.md)",
        "review.py": "# " + "code" + "-" + "review item 4",
        "style.toml": "# as " + "style" + ".md asks",
    }
    clean = {
        "readme_section.py": "# (README, The booking rules)",
        "module.py": "# every status of kiosk/api.py",
        "catalogue.md": "the format of docs/catalogue.md",
        "words.py": "# designed so that a channel's style never changes",
    }
    for name, line in {**cited, **clean}.items():
        (tmp_path / name).write_text(f"first line\n{line}\n", encoding="utf-8")
    paths = sorted(tmp_path.iterdir())
    found = {entry.split(": ")[0] for entry in _citations(tmp_path, paths)}
    assert found == {f"{name}:2" for name in cited}
