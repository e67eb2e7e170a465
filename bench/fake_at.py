"""A tiny, fast fake of Africa's Talking's SMS API for the dispatch benchmark (scenario d).

`python -m bench.fake_at --port P` answers `POST /version1/messaging` with 201,
`Content-Type: application/json` exactly (the SDK returns a str otherwise)
and Africa's Talking's JSON send reply with a fresh `messageId`; `GET /` says how many it has
served. Raw asyncio, no framework: it must cost far less CPU than the workers it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
from urllib.parse import parse_qs

_ids = itertools.count(1)
_served = 0


def _reply(form: bytes) -> bytes:
    fields = parse_qs(form.decode("utf-8", "replace"))
    recipients = [
        {
            "statusCode": 101,
            "number": number,
            "status": "Success",
            "cost": "KES 0.8000",
            "messageId": f"ATXid_bench{next(_ids):09d}",
        }
        for number in ",".join(fields.get("to", [""])).split(",")
        if number
    ]
    data = {
        "SMSMessageData": {
            "Message": f"Sent to {len(recipients)}/{len(recipients)} Total Cost: KES 0.8000",
            "Recipients": recipients,
        }
    }
    return json.dumps(data).encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global _served
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            if method == "POST" and path.startswith("/version1/messaging"):
                status, payload = "201 Created", _reply(body)
                _served += 1
            elif method == "GET":  # readiness probe, and the count the harness checks
                status, payload = "200 OK", json.dumps({"served": _served}).encode()
            else:
                status, payload = "404 Not Found", b'{"error": "not found"}'
            keep = headers.get("connection", "").lower() != "close"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
            if not keep:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(f"fake Africa's Talking served {_served} messaging requests", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
