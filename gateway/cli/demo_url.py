"""Where the running demo listens: `ors demo` writes its base URL to the data folder once the
port is bound, and `ors simulate` reads it, so neither needs --url (nor port 5000)."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import Settings

DEMO_URL_FILE = "demo-url"
# No demo has written its address: the port `ors demo` binds by default.
DEFAULT_BASE = "http://127.0.0.1:5000"


def _path(settings: Settings) -> Path:
    return settings.data_dir / DEMO_URL_FILE


def remember(settings: Settings, base: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _path(settings).write_text(base + "\n", encoding="utf-8")


def forget(settings: Settings, base: str) -> None:
    """Remove the address on exit, unless a later demo on the same data has written its own."""
    path = _path(settings)
    if path.exists() and path.read_text(encoding="utf-8").strip() == base:
        path.unlink()


def base_url(settings: Settings) -> str:
    """The running demo's base URL, e.g. http://127.0.0.1:5000."""
    path = _path(settings)
    if path.exists():
        return path.read_text(encoding="utf-8").strip() or DEFAULT_BASE
    return DEFAULT_BASE
