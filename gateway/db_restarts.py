"""Surviving a PostgreSQL restart without failing a citizen's request (finding 16).

A restart (or a failover, or `pg_terminate_backend`) leaves every pooled connection dead, and
the pool does not ping on checkout: that is a round trip per request (gateway.db). Instead:

- On checkout, the pooled connection's socket is polled without waiting. An idle connection is
  owed nothing by the server (no query is outstanding and this app LISTENs on nothing), so a
  readable socket means the server said goodbye (the "terminating connection" notice and the
  close a shutdown sends), or the kernel gave up on a silent peer (TCP keepalive). The pool
  then connects afresh before anything is sent. One system call, no round trip. Each pooled
  connection finds its own goodbye, so only the dead are replaced: a false alarm (a stray
  notice from the server) costs one reconnect, never the whole pool.
- When either engine of a process (writes, reads; gateway.db.make_read_engine) meets a
  dropped connection all the same, both engines are disposed, so the other's idle connections
  cannot fail a later request, possibly minutes later.
- A read that finds its connection dropped runs once more on a fresh one
  (gateway.booking.sql.driver): it changed nothing.
"""

from __future__ import annotations

import select
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError

_ANYTHING_TO_READ = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP
# psycopg's pq.ConnStatus.OK; compared as an int so this module needs no psycopg import.
_CONNECTION_OK = 0


class _Partners:
    """The engines of one process on one database: a disconnect seen by one concerns all."""

    def __init__(self) -> None:
        self.engines: weakref.WeakSet[Engine] = weakref.WeakSet()
        self.lock = threading.Lock()

    def dispose_all(self) -> None:
        with self.lock:
            engines = list(self.engines)
        for engine in engines:
            engine.dispose()


# Keyed by dialect: an engine made by `execution_options()` shares its parent's dialect, so a
# connection of any of them finds the group (each create_engine makes a dialect of its own).
_GROUPS: weakref.WeakKeyDictionary[Dialect, _Partners] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def watch_for_restarts(engine: Engine) -> None:
    """Check every pooled connection on checkout, and dispose the engine's partners (itself
    included) whenever one of its statements meets a dropped connection."""
    partners = _Partners()
    partners.engines.add(engine)
    with _GROUPS_LOCK:
        _GROUPS[engine.dialect] = partners
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "checkout", _refuse_if_server_left)
    event.listen(engine, "handle_error", _dispose_partners_on_disconnect)


def pair(writes: Engine, reads: Engine) -> None:
    """Let a dropped connection seen by either engine dispose both."""
    with _GROUPS_LOCK:
        group = _GROUPS[writes.dialect]
        with group.lock:
            group.engines.add(reads)
        _GROUPS[reads.dialect] = group


def forget_connections(engine: Engine) -> None:
    """The server dropped a connection of `engine`: every connection of its partner engines
    is as old as the server's restart, so dispose them all now rather than fail later."""
    group = _GROUPS.get(engine.dialect)
    if group is None:  # an engine not made by gateway.db
        engine.dispose()
    else:
        group.dispose_all()


def server_left(dbapi_conn: Any) -> bool:
    """Whether an idle psycopg connection has heard from its server, i.e. was dropped."""
    pgconn = dbapi_conn.pgconn
    if pgconn.status != _CONNECTION_OK:
        return True
    try:
        fd = pgconn.socket
    except Exception:  # psycopg raises when libpq has no socket left: closed
        return True
    poller = select.poll()
    poller.register(fd, _ANYTHING_TO_READ)
    return bool(poller.poll(0))


def _refuse_if_server_left(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    if server_left(dbapi_conn):
        # The pool closes this connection, opens a new one in its place and checks again.
        raise DisconnectionError("the server closed this pooled connection")


def _dispose_partners_on_disconnect(context: ExceptionContext) -> None:
    if context.is_disconnect and context.engine is not None:
        forget_connections(context.engine)
