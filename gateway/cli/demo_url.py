"""Where the running demo listens: `ors demo` writes its base URL (and its process id) to the
data folder once the port is bound, and `ors simulate` reads it, so neither needs --url (nor
port 5000). A demo killed without the chance to forget its address (kill -9) leaves the file;
the process id tells that nobody listens there any more."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.settings import Settings

DEMO_URL_FILE = "demo-url"
# No demo has written its address: the port `ors demo` binds by default.
DEFAULT_BASE = "http://127.0.0.1:5000"


def _path(settings: Settings) -> Path:
    return settings.data_dir / DEMO_URL_FILE


def remember(settings: Settings, base: str, pid: int | None = None) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _path(settings).write_text(f"{base}\n{pid or os.getpid()}\n", encoding="utf-8")


def forget(settings: Settings, base: str) -> None:
    """Remove the address on exit, unless a later demo on the same data has written its own."""
    path = _path(settings)
    if path.exists() and _read(path)[0] == base:
        path.unlink()


def base_url(settings: Settings) -> str:
    """The running demo's base URL, e.g. http://127.0.0.1:5000."""
    path = _path(settings)
    if not path.exists():
        return DEFAULT_BASE
    base, pid = _read(path)
    if not base or (pid is not None and not _alive(pid)):
        return DEFAULT_BASE  # left by a demo that was killed: nobody listens there
    return base


def _read(path: Path) -> tuple[str, int | None]:
    lines = path.read_text(encoding="utf-8").split()
    base = lines[0] if lines else ""
    pid = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else None
    return base, pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
