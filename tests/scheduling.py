"""How `make test` shares tests between its two xdist workers.

Like `--dist load` (each test goes to whichever worker is free), except that the test files
below run on one worker, one after another: each opens dozens of PostgreSQL connections at
once (50-thread races, gunicorn or `ors worker` processes with pools of their own), and two of
them at the same moment on two workers pass the server's default max_connections of 100.

pytest-xdist's own `xdist_group` mark cannot do this here: with pytest 9 it no longer changes
a test's node id, which is what `--dist loadgroup` schedules by, so the mark is silently
ignored. The controller sees node ids only, so the files are named here.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

MANY_CONNECTIONS = frozenset(
    {
        "tests/booking/test_booking_races.py",
        "tests/booking/test_persons_races.py",
        "tests/booking/test_walk_ins.py",  # 40 threads racing for the last places
        "tests/booking/test_desk_operations.py",
        "tests/kiosk/test_failed_code_limit.py",
        "tests/channels/test_ussd_database_restart.py",
        "tests/messaging/test_messaging_worker_kill.py",
        "tests/foundation/test_database_restart.py",
        "tests/cli/test_serve_cli.py",
    }
)
GROUP = "many_connections"


def scope_of(nodeid: str) -> str:
    """The unit a worker takes whole: the group for the files above, else the test itself."""
    return GROUP if nodeid.split("::", 1)[0] in MANY_CONNECTIONS else nodeid


class SharedConnectionsScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)


def make_scheduler(config: Any, log: Any) -> SharedConnectionsScheduling:
    return SharedConnectionsScheduling(config, log)
