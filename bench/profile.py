"""Sampling profiles with py-spy (`--gil`: Python CPU), summarised for bench/results.md.

`Spy(pid, seconds, out)` records collapsed stacks (`py-spy record --format raw`); `summarise`
turns one or more such files into: where the samples are by layer (inclusive), and the
functions with the most samples, inclusive and self.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Layers by the start of a frame's file path (py-spy shows paths from site-packages or the
# repository root); a sample counts once per layer.
LAYERS = (
    ("PostgreSQL driver (psycopg)", ("psycopg/", "psycopg_binary/", "psycopg_pool/")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("Redis client", ("redis/",)),
    ("RQ", ("rq/",)),
    ("HTTP client (requests/urllib3/AT SDK)", ("requests/", "urllib3/", "africastalking/")),
    ("booking core (gateway/booking)", ("gateway/booking/",)),
    ("menus engine (menus/)", ("menus/", "gateway/menus_port.py", "gateway/conversations.py")),
    ("AT USSD adapter (gateway/channels)", ("gateway/channels/",)),
    ("messaging (gateway/messaging)", ("gateway/messaging/",)),
    ("kiosk + tcode", ("kiosk/", "tcode/", "gateway/kiosk")),
    ("Flask/Werkzeug", ("flask/", "werkzeug/", "limits/")),
    ("gunicorn", ("gunicorn/",)),
    ("logging", ("logging/", "gateway/logs.py")),
    ("prometheus_client", ("prometheus_client/",)),
    ("phonenumbers", ("phonenumbers/",)),
    ("json", ("json/",)),
)


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Spy:
    """A py-spy recorder attached to one process for a fixed time."""

    def __init__(self, pid: int, seconds: float, out: Path, rate: int = 200):
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy not found: .venv/bin/pip install py-spy")
        self.out = out
        self.popen = subprocess.Popen(
            [
                *(exe, "record", "--pid", str(pid), "--duration", str(int(seconds))),
                *("--rate", str(rate), "--format", "raw", "--nolineno", "-o", str(out)),
                # Only samples holding the GIL: Python CPU. Waits on PostgreSQL and Redis release
                # it, so they do not show; the harness notes where the CPU went instead.
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait(self) -> Path | None:
        try:
            self.popen.wait(120)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        return self.out if self.out.exists() else None


def _read(paths: list[Path]) -> list[tuple[list[str], int]]:
    stacks = []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    """`func (/long/path/site-packages/pkg/mod.py)` -> `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):  # if a path is long
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


def _layer(frame: str) -> str | None:
    path = frame.partition(" (")[2]
    for name, fragments in LAYERS:
        if path.startswith(fragments):
            return name
    return None


def summarise(paths: list[Path], top: int = 15) -> str:
    stacks = _read(paths)
    total = sum(n for _, n in stacks)
    if not total:
        return "(no samples)\n"
    layers: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, n in stacks:
        for layer in {name for f in frames if (name := _layer(f)) is not None}:
            layers[layer] += n
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += n
        own[_short(frames[-1])] += n
    lines = [
        f"{total} samples of threads holding the GIL (Python CPU; socket waits excluded)",
        "",
        "By layer (inclusive):",
    ]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in layers.most_common()]
    lines += ["", "Functions of the project, inclusive:"]
    project = [
        (f, n)
        for f, n in inclusive.most_common()
        if any(p in f for p in ("(gateway/", "(menus/", "(kiosk/", "(tcode/", "(bench/"))
    ]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in project[:top]]
    lines += ["", "Self time (leaf frames):"]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines) + "\n"
