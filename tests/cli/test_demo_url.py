"""Where `ors simulate` posts: the address the running demo wrote, else port 5000."""

from __future__ import annotations

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
