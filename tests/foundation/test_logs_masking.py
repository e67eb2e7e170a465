"""Log masking: phone numbers keep their prefix and last three digits; tokens never appear."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from gateway.logs import MaskingFilter, mask

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
    (
        "token and phone",
        "/hooks/at/ussd?token=abc&phoneNumber=%2B254712345678",
        "/hooks/at/ussd?token=•••&phoneNumber=%2B2547•••••678",
    ),
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
    ],
)
def test_text_without_phone_numbers_or_tokens_is_unchanged(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize("text", [t for _, t, _ in MASKED])
def test_no_masked_text_keeps_the_middle_digits_or_the_token(text: str) -> None:
    masked = mask(text)
    for secret in ("12345", "98765", "s3cr3t", "5550", "token=abc"):
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
