"""A fake Africa's Talking SMS API whose behaviour the faults switch, recording every accept.

The real SDK in `ors worker` is pointed at it with ORS_AT_BASE_URL (as
gateway/channels/africastalking/sms_client.py does). It
answers `POST /version1/messaging` according to its mode:

- `accept`: 201 and the JSON reply of Africa's Talking's SMS API, with a fresh messageId;
- `slow`: the same, SLOW_SECONDS later (a batch then takes long enough to be killed mid-way);
- `error`: 500 with a plain body, as AT's front end answers when it is down;
- `throttle`: 429 "Too Many Requests";
- `timeout`: holds the request until the client gives up (its read timeout), then drops it.
  Every other held request is accepted first: the provider saw the message but the sender
  never hears so, the one case where a second copy is expected (README, Reliability).

A message counts as sent once the fake has given it an id (`accepted`), whatever happens to
the reply afterwards; `answered` says whether the sender could have read the reply.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = "/version1/messaging"
MODES = ("accept", "slow", "error", "throttle", "timeout")
SLOW_SECONDS = 0.25
HOLD_LIMIT = 60.0  # a held request is dropped after this even if the client waits on


@dataclass
class Accepted:
    to: str
    body: str
    at: float  # time.monotonic() when the fake gave it an id
    answered: bool = True  # False: the reply was held and dropped (a timeout after accept)


@dataclass
class FakeAt:
    api_key: str
    accepted: list[Accepted] = field(default_factory=list)
    mode: str = "accept"
    in_flight: int = 0
    refused: int = 0  # requests answered 500 / 429 or held without accepting

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._holds = itertools.count()
        self._ids = itertools.count(1)
        self.closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode

    def snapshot(self) -> list[Accepted]:
        with self._lock:
            return list(self.accepted)

    # --- used by the handler ------------------------------------------------------------------

    def accept(self, to: str, body: str, answered: bool = True) -> str:
        with self._lock:
            self.accepted.append(Accepted(to, body, time.monotonic(), answered))
            return f"ATXid_fault{next(self._ids):09d}"

    def count(self, attribute: str, delta: int) -> None:
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + delta)

    def accept_before_hold(self) -> bool:
        return next(self._holds) % 2 == 0


def _reply(to: str, message_id: str) -> str:
    """AT's reply for one recipient accepted, as its SMS API answers."""
    recipient = {
        "statusCode": 101,
        "number": to,
        "status": "Success",
        "cost": "KES 0.8000",
        "messageId": message_id,
    }
    data = {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [recipient]}
    return json.dumps({"SMSMessageData": data})


def _handler(fake: FakeAt) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != PATH:
                self._send(404, "text/plain", "no such path")
            elif self.headers.get("apiKey") != fake.api_key:
                self._send(401, "text/plain", "The supplied authentication is invalid")
            else:
                fake.count("in_flight", 1)
                try:
                    self._message(form.get("to", ""), form.get("message", ""))
                finally:
                    fake.count("in_flight", -1)

        def _message(self, to: str, body: str) -> None:
            mode = fake.mode
            if mode == "error":
                fake.count("refused", 1)
                self._send(500, "text/plain", "Internal Server Error")
            elif mode == "throttle":
                fake.count("refused", 1)
                self._send(429, "text/plain", "Too Many Requests")
            elif mode == "timeout":
                self._hold(to, body)
            else:
                message_id = fake.accept(to, body)
                if mode == "slow":
                    time.sleep(SLOW_SECONDS)
                # Exactly application/json: the SDK returns a str for anything else.
                self._send(201, "application/json", _reply(to, message_id))

        def _hold(self, to: str, body: str) -> None:
            if fake.accept_before_hold():
                fake.accept(to, body, answered=False)
            else:
                fake.count("refused", 1)
            self._wait_for_client_to_give_up()
            self.close_connection = True  # no reply ever reaches the client

        def _wait_for_client_to_give_up(self) -> None:
            conn: socket.socket = self.connection
            deadline = time.monotonic() + HOLD_LIMIT
            while time.monotonic() < deadline and not fake.closing.is_set():
                readable, _, _ = select.select([conn], [], [], 0.2)
                if readable:  # the request was read whole: readable now means closed
                    try:
                        if not conn.recv(1, socket.MSG_PEEK):
                            return
                    except OSError:
                        return

        def _send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sender gave up or died

    return Handler
