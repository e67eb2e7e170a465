"""Signing voucher payloads and parsing what kiosks scan or citizens type."""

import datetime
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tcode import (
    GenuineVoucher,
    Keyring,
    Refused,
    SigningKey,
    TypedCode,
    base32,
    generate,
    parse,
    sign,
)
from tcode.codes import check_digit
from tcode.payload import QR_ALPHANUMERIC, RefusalReason, is_qr_alphanumeric

DAY = datetime.date(2025, 3, 1)
HOSPITALS = ["KNH", "MTRH", "A", "CGH12", "0", "ZZZZZZZZZZZZ"]
PAYLOAD_SHAPE = re.compile(r"ORS1:[0-9]{10}:[A-Z0-9]+:[0-9]{8}:[0-9A-F]{8}:[A-Z2-7]{103}")


def signed_body(body: str, key: SigningKey) -> str:
    """Sign arbitrary body text the way sign() does, to build payloads sign() would refuse."""
    return f"{body}:{base32.encode(key.sign(body.encode()))}"


def field_spans(payload: str) -> list[tuple[str, int, int]]:
    """Name each character range of a payload: fields and the separators between them."""
    names = ["prefix", "tcode", "hospital", "day", "key_id", "signature"]
    spans, start = [], 0
    for name, text in zip(names, payload.split(":"), strict=True):
        spans.append((name, start, start + len(text)))
        spans.append(("separator", start + len(text), start + len(text) + 1))
        start += len(text) + 1
    return spans[:-1]


# What a single changed character may turn a genuine payload into, by the field it lands in.
# A ":" adds a field and a space is squeezed out, so most fields can also end up bad_code.
ALLOWED_REASONS = {
    "prefix": {"bad_code"},
    "separator": {"bad_code"},
    "tcode": {"bad_code"},
    "hospital": {"bad_code", "bad_signature"},
    "day": {"bad_code", "bad_signature"},
    "key_id": {"bad_code", "unknown_key"},
    "signature": {"bad_code", "bad_signature"},
}


def test_sign_then_parse_is_genuine(signing_key: SigningKey, keyring: Keyring) -> None:
    tcode = generate()
    payload = sign(tcode, "KNH", DAY, signing_key)
    assert parse(payload, keyring) == GenuineVoucher(tcode, "KNH", DAY, signing_key.key_id)


def test_payload_has_exactly_the_documented_shape(signing_key: SigningKey) -> None:
    payload = sign("4829135575", "KNH", DAY, signing_key)
    assert PAYLOAD_SHAPE.fullmatch(payload)
    signed, _, signature = payload.rpartition(":")
    assert signed == f"ORS1:4829135575:KNH:20250301:{signing_key.key_id}"
    signing_key.public_key.verify(base32.decode(signature), signed.encode("utf-8"))


def test_every_payload_is_qr_alphanumeric(signing_key: SigningKey) -> None:
    for offset in range(0, 3650, 73):
        for hospital in HOSPITALS:
            payload = sign(generate(), hospital, DAY + datetime.timedelta(offset), signing_key)
            assert is_qr_alphanumeric(payload), payload


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ORS1:0123 $%*+-./", True), ("", True), ("ors1", False), ("A=B", False), ("Ä", False)],
)
def test_is_qr_alphanumeric(text: str, expected: bool) -> None:
    assert is_qr_alphanumeric(text) is expected


def test_every_single_changed_character_is_refused(
    signing_key: SigningKey, keyring: Keyring
) -> None:
    payload = sign(generate(), "KNH", DAY, signing_key)
    for field, start, end in field_spans(payload):
        for position in range(start, end):
            for replacement in sorted(QR_ALPHANUMERIC - {payload[position]}):
                changed = payload[:position] + replacement + payload[position + 1 :]
                result = parse(changed, keyring)
                assert isinstance(result, Refused), changed
                assert result.reason in ALLOWED_REASONS[field], (changed, result)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (2, "KNX", "bad_signature"),
        (3, "20250302", "bad_signature"),
        (3, "20250230", "bad_code"),
        (3, "2025031", "bad_code"),
        (4, "0000000G", "bad_code"),
        (1, "4829135574", "bad_code"),
        (0, "ORS2", "bad_code"),
    ],
)
def test_changed_fields_get_the_right_reason(
    signing_key: SigningKey, keyring: Keyring, field: int, value: str, reason: RefusalReason
) -> None:
    fields = sign("4829135575", "KNH", DAY, signing_key).split(":")
    fields[field] = value
    assert parse(":".join(fields), keyring) == Refused(reason)


def test_every_truncation_is_refused(signing_key: SigningKey, keyring: Keyring) -> None:
    payload = sign(generate(), "KNH", DAY, signing_key)
    for length in range(len(payload)):
        assert isinstance(parse(payload[:length], keyring), Refused), payload[:length]
    assert parse(payload[:-1], keyring) == Refused("bad_signature")


@pytest.mark.parametrize(
    "suffix", [":", ":EXTRA", "=", "A"], ids=["empty-field", "extra-field", "padding", "long"]
)
def test_additions_are_refused(signing_key: SigningKey, keyring: Keyring, suffix: str) -> None:
    payload = sign(generate(), "KNH", DAY, signing_key)
    assert isinstance(parse(payload + suffix, keyring), Refused)


def test_unknown_key_is_reported(signing_key: SigningKey) -> None:
    payload = sign(generate(), "KNH", DAY, signing_key)
    stranger = Keyring([SigningKey.generate().public_key])
    assert parse(payload, stranger) == Refused("unknown_key")
    assert parse(payload, Keyring()) == Refused("unknown_key")


def test_signature_by_another_key_with_a_trusted_id_is_bad(signing_key: SigningKey) -> None:
    forger = SigningKey.generate()
    body = f"ORS1:4829135575:KNH:20250301:{signing_key.key_id}"
    forged = signed_body(body, forger)
    assert parse(forged, Keyring([signing_key.public_key])) == Refused("bad_signature")


def test_key_rotation_trusts_old_and_new_keys() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    both = Keyring([old.public_key, new.public_key])
    for key in (old, new):
        payload = sign("4829135575", "KNH", DAY, key)
        assert parse(payload, both) == GenuineVoucher("4829135575", "KNH", DAY, key.key_id)
    retired = sign("4829135575", "KNH", DAY, old)
    assert parse(retired, Keyring([new.public_key])) == Refused("unknown_key")


@pytest.mark.parametrize(
    "wrap",
    [
        lambda p: p.lower() + "\r\n",
        lambda p: " \t" + p + "\n",
        lambda p: p[:40] + "\r\n" + p[40:],
        lambda p: p.swapcase(),
    ],
    ids=["lower-crlf", "surrounding-space", "inner-newline", "swapcase"],
)
def test_keyboard_wedge_noise_still_parses_genuine(
    signing_key: SigningKey, keyring: Keyring, wrap: Callable[[str], str]
) -> None:
    payload = sign("4829135575", "KNH", DAY, signing_key)
    expected = GenuineVoucher("4829135575", "KNH", DAY, signing_key.key_id)
    assert parse(wrap(payload), keyring) == expected


def test_unicode_look_alikes_are_refused(signing_key: SigningKey, keyring: Keyring) -> None:
    # "ſ".upper() == "S" and "ı".upper() == "I": upper-casing must not turn them into ASCII.
    payload = sign("4829135575", "KNSH", DAY, signing_key).replace("KNSH", "knſh")
    assert parse(payload, keyring) == Refused("bad_code")


def test_well_signed_but_malformed_fields_are_bad_code(signing_key: SigningKey) -> None:
    keyring = Keyring([signing_key.public_key])
    for body in (
        f"ORS1:4829135575:KNH:20250230:{signing_key.key_id}",
        f"ORS1:4829135575:K-H:20250301:{signing_key.key_id}",
        f"ORS1:4829135574:KNH:20250301:{signing_key.key_id}",
    ):
        assert parse(signed_body(body, signing_key), keyring) == Refused("bad_code"), body


def test_check_digit_is_verified_before_any_key_lookup(signing_key: SigningKey) -> None:
    class SpyKeyring(Keyring):
        def __init__(self, public_keys: list[Ed25519PublicKey]) -> None:
            super().__init__(public_keys)
            self.looked_up: list[str] = []

        def get(self, key_id: str) -> Ed25519PublicKey | None:
            self.looked_up.append(key_id)
            return super().get(key_id)

    spy = SpyKeyring([signing_key.public_key])
    body = f"ORS1:4829135574:KNH:20250301:{signing_key.key_id}"
    assert parse(signed_body(body, signing_key), spy) == Refused("bad_code")
    assert spy.looked_up == []


def test_years_before_1000_keep_four_digits(signing_key: SigningKey, keyring: Keyring) -> None:
    day = datetime.date(999, 1, 2)
    payload = sign("4829135575", "KNH", day, signing_key)
    assert ":09990102:" in payload
    assert parse(payload, keyring) == GenuineVoucher("4829135575", "KNH", day, signing_key.key_id)


@pytest.mark.parametrize(
    ("tcode", "hospital", "message"),
    [
        ("4829135574", "KNH", "not a valid T-code"),
        ("482 913 5575", "KNH", "not a valid T-code"),
        ("4829135575", "knh", "upper-case letters and digits"),
        ("4829135575", "", "upper-case letters and digits"),
        ("4829135575", "K:H", "upper-case letters and digits"),
    ],
)
def test_sign_refuses_bad_fields(
    signing_key: SigningKey, tcode: str, hospital: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sign(tcode, hospital, DAY, signing_key)


@pytest.mark.parametrize(
    "typed",
    ["4829135575", "T 482-913 5575", " 482 913 5575\r\n", "t4829135575", "482–913–5575"],
)
def test_typed_codes_need_an_online_lookup(typed: str) -> None:
    assert parse(typed, Keyring()) == TypedCode("4829135575")


@pytest.mark.parametrize("typed", ["", "T", "48291", "482913557A", "ORS1", "４８２９１３５５７５"])
def test_malformed_typed_codes_are_bad_code(typed: str) -> None:
    assert parse(typed, Keyring()) == Refused("bad_code")


def test_every_single_digit_typo_of_a_typed_code_is_bad_code(keyring: Keyring) -> None:
    for _ in range(50):
        code = generate()
        for position in range(10):
            for digit in set("0123456789") - {code[position]}:
                typo = code[:position] + digit + code[position + 1 :]
                grouped = f"T {typo[:3]}-{typo[3:6]} {typo[6:]}"
                assert parse(typo, Keyring()) == Refused("bad_code"), typo
                assert parse(grouped, keyring) == Refused("bad_code"), grouped


def test_typed_code_leading_zeros_survive() -> None:
    code = "000000042" + check_digit("000000042")
    assert parse(code, Keyring()) == TypedCode(code)
