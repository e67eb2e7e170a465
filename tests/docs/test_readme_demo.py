"""The README's demo is true: every command block of "What a citizen sees" and "Families on one
phone" runs against a live `ors demo` (a subprocess on a free port, its own data folder), and the
block after it shows what the last command printed.

What varies from run to run is rewritten to a placeholder on both sides before comparing:
dates ("Sun 22 Nov", "8 Dec") to <date>, clock times to <time>, T-codes (spaced or not) to
<tcode>, voucher links to /v/<link>, the demo's address to <base>. In a README screen, a line
"..." stands for any screens lines (or none). Everything else must match word for word
(whitespace aside: the README wraps long lines, the simulator's panels wrap at 30 characters).

- after `ors simulate ussd …`: screens side by side, separated by two or more spaces; each one
  must be one of the walk's screens, in the order shown (the README may skip screens);
- after `ors outbox --phone P`: the SMS, i.e. the TEXT column of the newest message;
- after `ors simulate sms …`: the reply the outbox recorded.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gateway.settings import REPO_CONFIG
from tests.cli.in_process import ORS, SUITE_ONLY, Run, in_process

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("What a citizen sees", "Families on one phone")
STARTUP_SECONDS = 120
SMS_SECONDS = 10

_DAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
PLACEHOLDERS = (
    (re.compile(r"http://127\.0\.0\.1:\d+"), "<base>"),
    (re.compile(r"/v/[A-Za-z0-9_-]+"), "/v/<link>"),
    (re.compile(r"\b\d{3} \d{3} \d{4}\b|\b\d{10}\b"), "<tcode>"),
    (re.compile(_DAY), "<date>"),
    (re.compile(r"\b\d{2}:\d{2}\b"), "<time>"),
)


def placeheld(text: str) -> str:
    text = " ".join(text.split())
    for pattern, placeholder in PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text


def test_placeholders_rewrite_only_what_varies() -> None:
    assert placeheld("Sun 22 Nov 15:30, held till\n 15:30 (6 left)") == (
        "<date> <time>, held till <time> (6 left)"
    )
    assert placeheld(
        "T-code 872 781 1813 http://127.0.0.1:5000/v/ANhjcLPO9AJ. CANCEL 8727811813"
    ) == ("T-code <tcode> <base>/v/<link>. CANCEL <tcode>")
    assert placeheld("For Amina, 8 Dec 08:00") == "For Amina, <date> <time>"


# --- the README ------------------------------------------------------------------------------


def demo_blocks(readme: str) -> list[tuple[list[str], str]]:
    """(commands, the output block after them) for each ```sh block of the demo sections."""
    found: list[tuple[list[str], str]] = []
    for title in SECTIONS:
        section = re.split(r"^#{2,3} ", readme.split(f"### {title}\n", 1)[1], flags=re.M)[0]
        for commands, output in re.findall(r"```sh\n(.*?)```\s*```text\n(.*?)```", section, re.S):
            found.append(([line for line in commands.splitlines() if line.strip()], output))
    return found


def columns(block: str) -> Iterator[str]:
    """Screens laid side by side: rows of screens split by blank lines, columns by 2+ spaces."""
    for row in re.split(r"\n\s*\n", block.strip("\n")):
        lines = row.splitlines()
        width = max(map(len, lines))
        padded = [line.ljust(width) for line in lines]
        # A column starts where every line has a space before it and some line text at it.
        starts = [0] + [
            at
            for at in range(2, width)
            if all(line[at - 2 : at] == "  " for line in padded)
            and any(line[at] != " " for line in padded)
        ]
        for begin, end in zip(starts, [*starts[1:], width], strict=True):
            text = "\n".join(line[begin:end].strip() for line in padded)
            if text.strip():
                yield text


def screen_pattern(screen: str) -> re.Pattern[str]:
    """A README screen as a pattern over a placeheld walk screen; a "..." line matches any."""
    regex = ""
    for line in filter(str.strip, screen.splitlines()):
        regex += "(?:.* )?" if line.strip() == "..." else re.escape(placeheld(line)) + " "
    if regex.endswith("(?:.* )?"):  # a last "...": whatever follows, if anything
        return re.compile(regex.removesuffix(" (?:.* )?") + "(?: .*)?")
    return re.compile(regex.removesuffix(" "))


def test_readme_columns_are_read_as_screens() -> None:
    block = "Hello         Booked!\n1 Book        T-code: 1\n2 More        ...\n\nLast one\n"
    assert list(columns(block)) == [
        "Hello\n1 Book\n2 More",
        "Booked!\nT-code: 1\n...",
        "Last one",
    ]
    assert screen_pattern("A\n...\n0 Back").fullmatch("A 1 x 2 y 0 Back")
    assert screen_pattern("A\n...\n0 Back").fullmatch("A 0 Back")
    assert not screen_pattern("A\n1 x\n0 Back").fullmatch("A 1 y 0 Back")
    assert screen_pattern("A\n1 x\n...").fullmatch("A 1 x")
    assert screen_pattern("A\n1 x\n...").fullmatch("A 1 x 2 y")


# --- what the commands print -----------------------------------------------------------------


def panels(output: str) -> list[str]:
    """The text inside each rich panel the simulators print."""
    found: list[str] = []
    inside: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("╭"):
            inside = []
        elif line.startswith("╰") and inside is not None:
            found.append(" ".join(inside))
            inside = None
        elif inside is not None:
            inside.append(line.strip("│ "))
    return found


def check_ussd(printed: str, shown: str) -> None:
    walk = [placeheld(screen) for screen in panels(printed)]
    position = 0
    for screen in columns(shown):
        pattern = screen_pattern(screen)
        while position < len(walk) and not pattern.fullmatch(walk[position]):
            position += 1
        assert position < len(walk), (
            f"README screen not in the walk (in order):\n{screen}\n\n{printed}"
        )
        position += 1


def check_outbox(printed: str, shown: str) -> None:
    header, newest = printed.splitlines()[:2]
    text = newest[header.index("TEXT") :]
    assert placeheld(text) == placeheld(shown), printed


def check_sms(printed: str, shown: str) -> None:
    assert placeheld(panels(printed)[-1]) == placeheld(shown), printed


CHECKS = {
    ("simulate", "ussd"): check_ussd,
    ("outbox",): check_outbox,
    ("simulate", "sms"): check_sms,
}


# --- the live demo ---------------------------------------------------------------------------


@pytest.fixture
def live_demo(tmp_path: Path) -> Iterator[Path]:
    """`ors demo --port 0` on a data folder of its own; the config the commands must use."""
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(tmp_path / "data")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(SUITE_ONLY)}
    env["ORS_CONFIG"] = str(config)
    command = (
        [str(ORS)]
        if ORS.exists()
        else [sys.executable, "-c", "from gateway.cli import main; main()"]
    )
    banner, log = (tmp_path / "demo.out").open("w"), (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [*command, "demo", "--port", "0"], env=env, cwd=tmp_path, stdout=banner, stderr=log
    )
    try:
        url_file = tmp_path / "data" / "demo-url"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not url_file.exists():  # written once the port is bound and the data is ready
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.1)
        yield config
    finally:
        demo.terminate()
        demo.wait(timeout=30)
        banner.close()
        log.close()
    printed = (tmp_path / "demo.log").read_text()
    assert "ORS Gateway ready" in printed and not url_file.exists()


def test_the_readme_demo_blocks_run_and_match(
    live_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run: Run = in_process(live_demo, tmp_path, monkeypatch, capsys)
    blocks = demo_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for commands, shown in blocks:
        for line in commands:
            args = shlex.split(line.split("#")[0])
            assert args[0].endswith("ors"), line
            result = run(*args[1:])
            deadline = time.monotonic() + SMS_SECONDS
            while args[1] == "outbox" and result.stdout == "no messages\n":
                # The booking's SMS is written by the demo's background relay, a moment later.
                assert time.monotonic() < deadline, "no SMS in the outbox"
                time.sleep(0.1)
                result = run(*args[1:])
            assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        check = next(c for key, c in CHECKS.items() if tuple(args[1 : 1 + len(key)]) == key)
        check(result.stdout, shown)


def test_the_quick_start_scripts_the_walk_the_readme_shows() -> None:
    readme = README.read_text(encoding="utf-8")
    scripted = re.findall(r"ors simulate ussd --phone \S+ --input \S+", readme)
    assert len(set(scripted[:2])) == 1, scripted  # "Two commands" and "What a citizen sees"
