"""Where `ors simulate` posts: the address the running demo wrote, else port 5000."""

from __future__ import annotations

import subprocess

from gateway.cli import demo_url
from gateway.settings import Settings


def test_simulators_find_the_demo_that_is_running(settings: Settings) -> None:
    assert demo_url.base_url(settings) == "http://127.0.0.1:5000"  # no demo has written one
    demo_url.remember(settings, "http://127.0.0.1:41234")
    assert demo_url.base_url(settings) == "http://127.0.0.1:41234"
    demo_url.forget(settings, "http://127.0.0.1:5000")  # an older demo exiting keeps it
    assert demo_url.base_url(settings) == "http://127.0.0.1:41234"
    demo_url.forget(settings, "http://127.0.0.1:41234")
    assert demo_url.base_url(settings) == "http://127.0.0.1:5000"


def test_the_address_of_a_killed_demo_is_ignored(settings: Settings) -> None:
    child = subprocess.Popen(["true"])
    child.wait()  # finished and reaped: nothing runs under its id (a demo after kill -9)
    demo_url.remember(settings, "http://127.0.0.1:41234", pid=child.pid)
    assert demo_url.base_url(settings) == "http://127.0.0.1:5000"
    demo_url.remember(settings, "http://127.0.0.1:41234")  # this process: alive
    assert demo_url.base_url(settings) == "http://127.0.0.1:41234"
