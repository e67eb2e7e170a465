"""Log masking: phone numbers and T-codes keep their first and last three digits, voucher refs
and tokens never appear, in the message line and in tracebacks, in our handler and in the
handlers gunicorn, werkzeug and RQ set up."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.logs import (
    HANDLER_NAME,
    LINE_FORMAT,
    MaskingFilter,
    MaskingFormatter,
    configure_logging,
    mask,
    masked,
)

MASKED = [
    # (label, text, masked text)
    ("e164 alone", "+254712345678", "+2547•••••678"),
    ("e164 in a sentence", "sms to +254712345678 queued", "sms to +2547•••••678 queued"),
    (
        "e164 in a form body",
        "phoneNumber=+254712345678&text=1*2",
        "phoneNumber=+2547•••••678&text=1*2",
    ),
    ("e164 in JSON", '{"to": "+254712345678"}', '{"to": "+2547•••••678"}'),
    ("north american number", "+14155550123", "+1415••••123"),
    ("two numbers", "+254712345678 -> +254798765432", "+2547•••••678 -> +2547•••••432"),
    ("url-encoded", "phoneNumber=%2B254712345678&text=", "phoneNumber=%2B2547•••••678&text="),
    ("url-encoded lower case", "callerNumber=%2b254712345678", "callerNumber=%2b2547•••••678"),
    ("local number", "from 0712345678", "from 071••••678"),
    (
        "token first",
        "POST /hooks/at/ussd?token=s3cr3t-value HTTP/1.1",
        "POST /hooks/at/ussd?token=••• HTTP/1.1",
    ),
    ("token later", "/hooks/at/sms?x=1&token=s3cr3t-value&y=2", "/hooks/at/sms?x=1&token=•••&y=2"),
    ("token upper case", "/hooks/at/dlr?TOKEN=s3cr3t-value", "/hooks/at/dlr?TOKEN=•••"),
    ("e164 glued to a word", "tel+254712345678", "tel+2547•••••678"),
    ("spaced e164", "+254 712 345 678", "+254 7•• ••• 678"),
    # T-codes: the plain run keeps what a phone keeps; SMS group them 3-3-4 (finding 19).
    ("plain t-code", "T-code 3239005395", "T-code 323••••395"),
    (
        "t-code in groups",
        "T-code 323 900 5395. Show at kiosk",
        "T-code 323 ••• •395. Show at kiosk",
    ),
    ("t-code with hyphens", "CANCEL 323-900-5395", "CANCEL 323-•••-•395"),
    ("t-code with dots", "code 323.900.5395", "code 323.•••.•395"),
    ("local number in groups", "call 0712 345 678", "call 071• ••• 678"),
    # Voucher links are bearer capabilities: the ref goes, the route stays readable.
    (
        "voucher page",
        '127.0.0.1 "GET /v/OWbN09tVvfS" 200 1615 39ms',
        '127.0.0.1 "GET /v/•••" 200 1615 39ms',
    ),
    ("voucher image", "GET /v/OWbN09tVvfS.png", "GET /v/•••.png"),
    (
        "voucher link in an SMS body",
        "T-code *** *** ****. Show at kiosk: http://127.0.0.1:5871/v/jvhVcYE9lQC",
        "T-code *** *** ****. Show at kiosk: http://127.0.0.1:5871/v/•••",
    ),
    (
        "token and phone",
        "/hooks/at/ussd?token=abc&phoneNumber=%2B254712345678",
        "/hooks/at/ussd?token=•••&phoneNumber=%2B2547•••••678",
    ),
    # The console's search box: a T-code or phone typed with spaces, in either URL spelling.
    (
        "console search, +",
        "GET /console/KNH/search?q=482+913+5575 200",
        "GET /console/KNH/search?q=••• 200",
    ),
    (
        "console search, %20",
        "GET /console/KNH/search?q=0712%20345%20678&x=1",
        "GET /console/KNH/search?q=•••&x=1",
    ),
    ("voice audio link", "GET /voice/audio/Ab-c_9x.wav 200", "GET /voice/audio/•••.wav 200"),
    ("staff setup link", "GET /console/setup/Zk-4_Qx9aB 200", "GET /console/setup/••• 200"),
]


@pytest.mark.parametrize(
    ("text", "masked"), [(t, m) for _, t, m in MASKED], ids=[label for label, _, _ in MASKED]
)
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked
    assert mask(masked) == masked  # masking twice changes nothing more


@pytest.mark.parametrize(
    "text",
    [
        "slot 42 at 08:00 on 2026-11-23",
        "booking ABC123XYZ confirmed, queue number 17",
        "T-code 4821 9930 17",
        "kiosk 3 checked in ref=K7QX2M",
        "",
        # What operators need stays: times, addresses, ids, counts and durations.
        "2026-12-05 11:34:42,123 INFO gateway.app: ORS Gateway ready (production mode)",
        "[2026-12-05 11:34:42 +0000] [12345] [INFO] Booting worker with pid: 12345",
        '127.0.0.1 "POST /kiosk/api/v1/checkin" 200 312 4ms',
        "relayed 1234567 events in 123 456 789 ms",
        "incoming SMS failed (ref qwertyui)",
        "job msgs-1-3 retried 3 times",
    ],
)
def test_text_without_phone_numbers_or_tokens_is_unchanged(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize("text", [t for _, t, _ in MASKED])
def test_no_masked_text_keeps_the_middle_digits_or_the_token(text: str) -> None:
    masked = mask(text)
    for secret in ("12345", "98765", "s3cr3t", "5550", "token=abc", "900", "OWbN", "jvhV"):
        assert secret not in masked


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, ListHandler]]:
    logger = logging.getLogger("tests.foundation.masking")
    handler = ListHandler()
    handler.addFilter(MaskingFilter())
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True


def test_the_filter_masks_a_record_built_from_args(
    captured: tuple[logging.Logger, ListHandler],
) -> None:
    logger, handler = captured
    logger.info(
        "sms to %s via %s: %s", "+254712345678", "africastalking", "/hooks/at/dlr?token=s3cr3t"
    )
    [record] = handler.records
    assert record.getMessage() == "sms to +2547•••••678 via africastalking: /hooks/at/dlr?token=•••"
    assert record.args is None


def test_the_filter_masks_mapping_args(captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    logger.warning("call from %(caller)s dropped", {"caller": "%2B254712345678"})
    assert handler.records[0].getMessage() == "call from %2B2547•••••678 dropped"


def test_the_filter_keeps_clean_records_as_they_are(
    captured: tuple[logging.Logger, ListHandler],
) -> None:
    logger, handler = captured
    logger.info("released %d holds", 3)
    [record] = handler.records
    assert (record.msg, record.args, record.getMessage()) == (
        "released %d holds",
        (3,),
        "released 3 holds",
    )


def test_the_filter_never_drops_a_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("+254712345678",), None)
    assert MaskingFilter().filter(record) is True
    assert record.getMessage() == "to +2547•••••678"


# --- tracebacks and stacks (finding 4) --------------------------------------------------------

PARAMETERS = "[parameters: {'phone': '+254712345678', 'tcode': '3239005395'}]"
SECRETS = ("+254712345678", "12345", "3239005395")


def masked_line_handler() -> ListHandler:
    """A handler set up as `configure_logging` sets up its own: masking filter and formatter."""
    handler = ListHandler()
    handler.setFormatter(logging.Formatter(LINE_FORMAT))
    return masked(handler)


def fail() -> None:
    raise RuntimeError(f"(psycopg.errors.AdminShutdown) terminating connection\n{PARAMETERS}")


def test_the_traceback_of_a_logged_exception_is_masked(
    captured: tuple[logging.Logger, ListHandler],
) -> None:
    logger, plain = captured
    handler = masked_line_handler()
    logger.addHandler(handler)
    try:
        fail()
    except RuntimeError:
        logger.exception("USSD hop failed (ref %s) for %s", "qwertyui", "+254712345678")
    finally:
        logger.removeHandler(handler)
    line = handler.format(handler.records[0])
    assert "USSD hop failed (ref qwertyui) for +2547•••••678" in line
    assert "Traceback (most recent call last)" in line and "in fail" in line
    assert "[parameters: {'phone': '+2547•••••678', 'tcode': '323••••395'}]" in line
    # The filter rewrote the record: the other handler of the same record prints it masked too.
    assert plain.records[0].exc_text == handler.records[0].exc_text
    assert not any(secret in line for secret in SECRETS)


def test_the_stack_of_a_record_is_masked() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent", None, None)
    record.stack_info = f"Stack (most recent call last):\n  send('+254712345678')\n{PARAMETERS}"
    handler = masked_line_handler()
    handler.handle(record)
    line = handler.format(record)
    assert "send('+2547•••••678')" in line
    assert not any(secret in line for secret in SECRETS)


def test_the_formatter_masks_a_traceback_another_handler_cached_unmasked() -> None:
    try:
        fail()
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    unmasked = logging.Formatter().format(record)  # caches the raw traceback in exc_text
    assert "+254712345678" in unmasked
    line = MaskingFormatter(logging.Formatter(LINE_FORMAT)).format(record)
    assert "+2547•••••678" in line and not any(secret in line for secret in SECRETS)


def test_a_malformed_logging_call_still_reaches_the_formatter() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d holds", ("many",), None)
    assert MaskingFilter().filter(record) is True


def test_masked_keeps_the_handlers_own_format_and_is_idempotent() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    masked(masked(handler))
    assert len(handler.filters) == 1
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("+254712345678",), None)
    assert handler.format(record) == "[INFO] to +2547•••••678"


def test_configure_logging_adds_its_handler_once_beside_other_masking_handlers() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    other = masked(ListHandler())  # the suite's own collector is such a handler
    root.handlers = [other]
    try:
        configure_logging("INFO")
        configure_logging("WARNING")
        ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
        assert len(ours) == 1 and root.level == logging.WARNING
        assert isinstance(ours[0].formatter, MaskingFormatter)
    finally:
        root.handlers, root.level = handlers, level


# --- gunicorn's own handlers (`ors serve`) ----------------------------------------------------

# The access log format `ors serve` configures (gateway/cli/serve.py).
ACCESS_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


GunicornLogger = Callable[..., Any]


@pytest.fixture
def gunicorn_logger(tmp_path: Path) -> Iterator[GunicornLogger]:
    """Build gunicorn's Logger (or `logger_class`) as its arbiter does before a worker loads
    the app, writing to files; its handlers are removed afterwards (the loggers are global)."""
    from gunicorn.config import Config

    built: list[Any] = []

    def build(logger_class: str = "gunicorn.glogging.Logger") -> Any:
        cfg = Config()
        cfg.set("accesslog", str(tmp_path / "access.log"))
        cfg.set("errorlog", str(tmp_path / "error.log"))
        cfg.set("access_log_format", ACCESS_FORMAT)
        cfg.set("logger_class", logger_class)
        built.append(cfg.logger_class(cfg))
        return built[-1]

    yield build
    for logger in built:
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
            log.propagate = True


def log_a_voucher_request_and_a_crash(logger: Any) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/v/OWbN09tVvfS.png",
        "PATH_INFO": "/v/OWbN09tVvfS.png",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=1615, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=39))
    try:
        fail()
    except RuntimeError:
        logger.exception("Error handling request %s", "/hooks/at/sms?token=s3cr3t")


def assert_masked_logs(folder: Path) -> None:
    access = (folder / "access.log").read_text(encoding="utf-8")
    error = (folder / "error.log").read_text(encoding="utf-8")
    assert access == '127.0.0.1 "GET /v/•••.png" 200 1615 39ms\n'
    assert "[ERROR] Error handling request /hooks/at/sms?token=•••" in error
    assert "'phone': '+2547•••••678'" in error
    assert not any(secret in error for secret in (*SECRETS, "s3cr3t"))


def test_gunicorn_access_and_error_lines_are_masked_once_the_app_is_built(
    gunicorn_logger: GunicornLogger, tmp_path: Path
) -> None:
    logger = gunicorn_logger()  # gunicorn's own class: what `create_app` finds in a worker
    configure_logging("INFO")  # what create_app does in each gunicorn worker
    log_a_voucher_request_and_a_crash(logger)
    assert_masked_logs(tmp_path)


def test_the_masking_logger_class_masks_the_arbiters_lines_without_the_app(
    gunicorn_logger: GunicornLogger, tmp_path: Path
) -> None:
    # No configure_logging: the arbiter never builds the app.
    log_a_voucher_request_and_a_crash(gunicorn_logger("gateway.gunicorn_logging.MaskingLogger"))
    assert_masked_logs(tmp_path)
