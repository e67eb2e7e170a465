"""A local HTTP server that speaks Africa's Talking and Twilio SMS, scripted per request.

The real SDKs are pointed at it (each sms_client's `base_url`). Each provider has a queue of
steps; a request takes the next step (default: accept). Every request is recorded in
`received`; a message counts as `accepted` once the fake has given it an id, which is what
"the provider saw it" means in the process-kill test. `arrived` and `release` let a test hold a
request open for as long as it wants.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

AT, TWILIO = "africastalking", "twilio"
AT_PATH = "/version1/messaging"
TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")


# The provider's success reply to a request, given the message id the fake chose for it.
Accepted = Callable[["Received", str], tuple[int, dict[str, object]]]


@dataclass(frozen=True)
class Step:
    """What the fake does with one request.

    kind: "accept" (the provider's success reply), "reply" (status/body/content_type as
    given), "slow" (wait `seconds`, then accept), "block" (wait for `release`, then drop the
    connection without accepting), "accept_then_block" (accept, then wait and drop it).
    """

    kind: str = "accept"
    status: int = 0
    body: str = ""
    content_type: str = "application/json"
    seconds: float = 0.0
    message_id: str = ""


def accept(message_id: str = "", content_type: str = "application/json") -> Step:
    return Step("accept", message_id=message_id, content_type=content_type)


def reply(status: int, body: object, content_type: str = "application/json") -> Step:
    text = body if isinstance(body, str) else json.dumps(body)
    return Step("reply", status=status, body=text, content_type=content_type)


def slow(seconds: float) -> Step:
    return Step("slow", seconds=seconds)


def block() -> Step:
    return Step("block")


def accept_then_block() -> Step:
    return Step("accept_then_block")


def at_recipients(status_code: int, status: str, message_id: str = "None") -> dict[str, object]:
    """An AT send reply for one recipient, as its SMS API answers."""
    return {
        "SMSMessageData": {
            "Message": f"Sent to {int(status_code < 200)}/1 Total Cost: KES 0.8000",
            "Recipients": [
                {
                    "statusCode": status_code,
                    "number": "+254700000001",
                    "status": status,
                    "cost": "KES 0.8000",
                    "messageId": message_id,
                }
            ],
        }
    }


def twilio_error(status: int, code: int, message: str = "error") -> Step:
    return reply(status, {"code": code, "message": message, "more_info": "", "status": status})


@dataclass
class Received:
    provider: str
    to: str
    body: str
    form: dict[str, str]
    headers: dict[str, str]
    message_id: str = ""  # set once accepted


@dataclass
class FakeProvider:
    at_api_key: str
    twilio_sid: str
    twilio_token: str
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    accepted_event: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._steps: dict[str, deque[Step]] = {AT: deque(), TWILIO: deque()}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"  # where __post_init__ bound it

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, provider: str, *steps: Step) -> None:
        with self._lock:
            self._steps[provider].extend(steps)

    def accepted(self, to: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.message_id and (to is None or r.to == to)]

    def requests(self, provider: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if provider is None or r.provider == provider]

    # --- used by the handler ------------------------------------------------------------------

    def next_step(self, provider: str) -> Step:
        with self._lock:
            return self._steps[provider].popleft() if self._steps[provider] else Step()

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def give_id(self, received: Received, step: Step) -> str:
        prefix = "ATXid_" if received.provider == AT else "SM"
        with self._lock:
            received.message_id = step.message_id or prefix + uuid.uuid4().hex
        self.accepted_event.set()
        return received.message_id


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body go out at once, no delayed ACK

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path == AT_PATH:
                self._at(form)
            elif match := TWILIO_PATH.match(self.path):
                self._twilio(form, match[1])
            else:
                self._send(404, "text/plain", "no such path")

        def _at(self, form: dict[str, str]) -> None:
            received = Received(
                AT, form.get("to", ""), form.get("message", ""), form, dict(self.headers)
            )
            fake.record(received)
            if self.headers.get("apiKey") != fake.at_api_key:
                self._send(401, "text/plain", "The supplied authentication is invalid")
                return
            self._run(received, fake.next_step(AT), _at_accepted)

        def _twilio(self, form: dict[str, str], account: str) -> None:
            received = Received(
                TWILIO, form.get("To", ""), form.get("Body", ""), form, dict(self.headers)
            )
            fake.record(received)
            expected = base64.b64encode(f"{fake.twilio_sid}:{fake.twilio_token}".encode()).decode()
            if (
                account != fake.twilio_sid
                or self.headers.get("Authorization") != f"Basic {expected}"
            ):
                body = {"code": 20003, "message": "Authenticate", "status": 401}
                self._send(401, "application/json", json.dumps(body))
                return
            self._run(received, fake.next_step(TWILIO), _twilio_accepted)

        def _run(self, received: Received, step: Step, accepted_body: Accepted) -> None:
            if step.kind == "reply":
                self._send(step.status, step.content_type, step.body)
                return
            if step.kind in ("block", "accept_then_block"):
                if step.kind == "accept_then_block":
                    fake.give_id(received, step)
                fake.arrived.set()
                fake.release.wait(60)
                self.close_connection = True  # drop it: no reply ever reaches the client
                return
            if step.kind == "slow":
                time.sleep(step.seconds)
            message_id = fake.give_id(received, step)
            status, body = accepted_body(received, message_id)
            self._send(status, step.content_type, json.dumps(body))

        def _send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout) or died

    return Handler


def _at_accepted(received: Received, message_id: str) -> tuple[int, dict[str, object]]:
    return 201, at_recipients(101, "Success", message_id)


def _twilio_accepted(received: Received, message_id: str) -> tuple[int, dict[str, object]]:
    form = received.form
    return 201, {
        "sid": message_id,
        "account_sid": "",
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "error_code": None,
        "error_message": None,
    }
