"""A TCP proxy that can be told to hang or to refuse, run as a process of its own.

`python tests/faults/proxy.py --target HOST:PORT` listens on a free loopback port, forwards
every connection to the target, and prints one line, `LISTEN CONTROL`, with its two ports.
A line sent to the control port switches its mode and is answered `ok MODE`:

- `forward`: bytes flow both ways (the start state);
- `hang`: connections are still accepted, but no byte moves in either direction, on new and
  existing connections alike: what a peer behind a dead network path or a frozen server
  looks like (TCP stays up, nothing answers). `forward` again delivers what was held;
- `refuse`: the listening socket is closed, so a connect is refused as by a stopped server
  (existing connections are left to the target, which closes them as it stops).

It has its own process so that the test's own threads (callers, fake provider) never delay
the bytes of the application under test. No project imports: it is started by path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

CHUNK = 65536
MODES = ("forward", "hang", "refuse")


class Proxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.listener: asyncio.Server | None = None
        self.port = 0

    async def listen(self) -> None:
        self.listener = await asyncio.start_server(self.connect, "127.0.0.1", self.port)
        self.port = self.listener.sockets[0].getsockname()[1]

    async def switch(self, mode: str) -> None:
        if mode == "hang":
            self.flowing.clear()
        else:
            self.flowing.set()
        if mode == "refuse" and self.listener is not None:
            self.listener.close()  # not wait_closed: that would wait for live connections
            self.listener = None
        elif mode != "refuse" and self.listener is None:
            await self.listen()  # the same port again: clients keep their URL

    async def connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(writer)  # the target is down: reset, as close to "refused" as we can get
            return
        try:
            await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))
        except OSError:
            _abort(writer)  # one side was reset: reset the other, as a dying peer would
            _abort(up_writer)
        finally:
            for side in (writer, up_writer):
                side.close()

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until end of stream; a half-close is passed on as one."""
        while data := await reader.read(CHUNK):
            await self.flowing.wait()  # hung: hold the bytes; TCP back-pressure does the rest
            writer.write(data)
            await writer.drain()
        await self.flowing.wait()
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (linger 0) instead of an orderly end of stream."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def control(proxy: Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            mode = line.decode().strip()
            if mode in MODES:
                await proxy.switch(mode)
                writer.write(f"ok {mode}\n".encode())
            else:
                writer.write(f"error unknown mode {mode!r}\n".encode())
            await writer.drain()
    finally:
        writer.close()


async def main(target: str) -> None:
    host, _, port = target.rpartition(":")
    proxy = Proxy(host, int(port))
    await proxy.listen()
    controller = await asyncio.start_server(lambda r, w: control(proxy, r, w), "127.0.0.1", 0)
    control_port = controller.sockets[0].getsockname()[1]
    print(proxy.port, control_port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


class ProxyProcess:
    """The proxy as a child process of the test, and its control line."""

    def __init__(self, target_port: int, log: Path):
        with open(log, "ab") as err:
            self.popen = subprocess.Popen(
                [sys.executable, __file__, "--target", f"127.0.0.1:{target_port}"],
                stdout=subprocess.PIPE,
                stderr=err,
                start_new_session=True,  # a process group of its own, stopped as a whole
            )
        assert self.popen.stdout is not None
        ports = self.popen.stdout.readline().split()
        if len(ports) != 2:
            self.stop()
            raise RuntimeError(f"the proxy did not start; see {log}")
        self.port, self.control_port = int(ports[0]), int(ports[1])

    def switch(self, mode: str) -> None:
        """Set the mode and wait for the proxy to confirm it."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as conn:
            conn.sendall(f"{mode}\n".encode())
            answer = conn.makefile().readline().strip()
        if answer != f"ok {mode}":
            raise RuntimeError(f"proxy: {answer!r}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    asyncio.run(main(parser.parse_args().target))
    sys.exit(0)
