"""The suite's log audit (tests/log_audit.py) finds what masking must hide, and nothing else."""

from __future__ import annotations

import logging

import pytest

from gateway.logs import mask
from tests.log_audit import LogAudit, leaks_in

LEAKING = [
    # (label, line, kind)
    ("e164", "SMS to +254712345678: hello", "phone number"),
    ("url-encoded e164", "from=%2B254712345678", "phone number"),
    ("spaced e164", "call +254 712 345 678", "phone number"),
    ("plain t-code", "CANCEL 3239005395", "T-code or phone (10 digits)"),
    ("t-code in groups", "T-code 323 900 5395.", "T-code or phone in groups"),
    ("t-code with hyphens", "T-code 323-900-5395", "T-code or phone in groups"),
    ("local phone in groups", "0712 345 678", "T-code or phone in groups"),
    ("voucher page", '"GET /v/OWbN09tVvfS" 200', "voucher ref"),
    ("voucher image", "GET /v/OWbN09tVvfS.png", "voucher ref"),
    ("national id as typed", "register K7Q-2938 4756", "national ID"),
    ("national id normalised", "id=k7q29384756", "national ID"),
    ("numeric national id", "national_id 12345678 taken", "national ID"),
]


@pytest.mark.parametrize(("line", "kind"), [c[1:] for c in LEAKING], ids=[c[0] for c in LEAKING])
def test_the_audit_finds_personal_data(line: str, kind: str) -> None:
    [leak] = leaks_in(f"2026-12-05 11:34:42,123 INFO x: {line}", "a test")
    assert (leak.kind, leak.where) == (kind, "a test")


@pytest.mark.parametrize("line", [c[1] for c in LEAKING if c[2] != "national ID"])
def test_masked_lines_pass_the_audit(line: str) -> None:
    assert leaks_in(mask(line), "a test") == []


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-05 11:34:42,123 INFO rq.worker: Worker 1234567890abcdef: started with PID 4242",
        "[2026-12-05 11:34:42 +0000] [12345] [INFO] Booting worker with pid: 12345",
        "job e316465f-86d6-48ab-b3bb-7a388c3241f0 failed; T-code 4821 9930 17",
        "GET /v/short 404; /kiosk/api/v1/checkin 200 in 1234 ms",
        "slot 42 at 08:00 on 2026-11-23, 123456789 bytes",
    ],
)
def test_ordinary_lines_pass_the_audit(line: str) -> None:
    assert leaks_in(line, "a test") == []


def test_the_audit_formats_records_as_production_and_leaves_them_untouched() -> None:
    audit = LogAudit()
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "to %s, id %s", ("+254712345678", "A1234567"), None
    )
    audit.handle(record)
    assert record.getMessage() == "to +254712345678, id A1234567"  # other handlers see it all
    [leak] = audit.leaks  # the phone was masked, the national ID has no pattern in production
    assert leak.kind == "national ID" and "+2547•••••678" in leak.line
