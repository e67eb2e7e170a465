"""Run `ors` inside the test process, as a shell would run it: argv in; exit code, stdout and
stderr out. A new interpreter costs a second of imports per command; this costs none.

The command reads its settings from the environment as a real one does, so callers set
ORS_CONFIG (and clear the suite's own ORS_* variables) with monkeypatch, which restores them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main

Run = Callable[..., subprocess.CompletedProcess[str]]
ORS = Path(sys.executable).with_name("ors")
# Variables of the suite (test database, Redis, metrics folder) that a command must not see.
SUITE_ONLY = ("ORS_", "PROMETHEUS_")


def run_main(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """Call `gateway.cli.main` with `args`; what a subprocess would have returned."""
    argv, sys.argv = sys.argv, ["ors", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return subprocess.CompletedProcess(["ors", *args], code, out.out, out.err)


def in_process(
    config: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """`ors ARGS…` in this process on `config`, in `cwd`; extra environment per call."""
    for name in os.environ:
        if name.startswith(SUITE_ONLY):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORS_CONFIG", str(config))
    monkeypatch.chdir(cwd)
    capsys.readouterr()  # what the test printed before is not the command's output

    def run(
        *args: str, config: Path | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as call:
            for name, value in (
                extra_env | ({"ORS_CONFIG": str(config)} if config else {})
            ).items():
                call.setenv(name, value)
            return run_main(list(args), capsys)

    return run


def in_subprocess(config: Path, cwd: Path) -> Run:
    """`ors ARGS…` in a new interpreter, for the few tests that prove the real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SUITE_ONLY)}
    env["ORS_CONFIG"] = str(config)
    command = (
        [str(ORS)]
        if ORS.exists()
        else [sys.executable, "-c", "from gateway.cli import main; main()"]
    )

    def run(
        *args: str, config: Path | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        run_env = env | extra_env | ({"ORS_CONFIG": str(config)} if config else {})
        return subprocess.run(
            [*command, *args],
            env=run_env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    return run
