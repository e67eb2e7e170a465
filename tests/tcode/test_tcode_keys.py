"""Signing keys, key files and keyrings."""

import hashlib
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tcode import Keyring, SigningKey, key_id, keys
from tcode.keys import (
    load_signing_key,
    parse_public_key,
    public_key_base32,
    public_key_pem,
    write_private_key,
)


def raw(public_key: Ed25519PublicKey) -> bytes:
    """Return the raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ec_private_pem() -> bytes:
    """Return a PEM private key of the wrong type (NIST P-256)."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_key_id_is_first_8_hex_of_sha256_of_raw_key(signing_key: SigningKey) -> None:
    expected = hashlib.sha256(raw(signing_key.public_key)).hexdigest()[:8].upper()
    assert key_id(signing_key.public_key) == expected == signing_key.key_id
    assert re.fullmatch("[0-9A-F]{8}", signing_key.key_id)


def test_signature_verifies_with_public_key(signing_key: SigningKey) -> None:
    signature = signing_key.sign(b"voucher")
    assert len(signature) == 64
    signing_key.public_key.verify(signature, b"voucher")


def test_pem_round_trip_keeps_the_key(signing_key: SigningKey) -> None:
    pem = signing_key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert SigningKey.from_pem(pem).key_id == signing_key.key_id


def test_repr_shows_the_key_id_only(signing_key: SigningKey) -> None:
    assert repr(signing_key) == f"SigningKey(key_id={signing_key.key_id!r})"


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"not a key", "not an unencrypted PEM private key"),
        (ec_private_pem(), "not an Ed25519 key"),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            ),
            "not an unencrypted PEM private key",
        ),
    ],
    ids=["garbage", "p256", "encrypted"],
)
def test_from_pem_refuses(pem: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SigningKey.from_pem(pem)


def test_write_private_key_creates_owner_only_file(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "voucher.pem"
    write_private_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == key.to_pem()


def test_write_private_key_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "voucher.pem"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        write_private_key(path, SigningKey.generate())
    assert path.read_bytes() == b"keep me"


def test_load_signing_key_from_path(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "voucher.pem"
    write_private_key(str(path), key)
    assert load_signing_key(str(path)).key_id == key.key_id


def test_load_signing_key_from_pem_text() -> None:
    key = SigningKey.generate()
    text = "\n" + key.to_pem().decode("ascii")
    assert load_signing_key(text).key_id == key.key_id


def test_load_signing_key_names_a_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.pem")
    with pytest.raises(ValueError, match="neither PEM text nor a readable key file") as error:
        load_signing_key(missing)
    assert missing in str(error.value)


def test_load_signing_key_names_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"cannot load the signing key in .*bad\.pem"):
        load_signing_key(str(path))


@pytest.mark.parametrize("value", ["", "   ", "\x00"])
def test_load_signing_key_refuses_empty_values(value: str) -> None:
    with pytest.raises(ValueError, match="neither PEM text nor a readable key file"):
        load_signing_key(value)


def test_load_signing_key_never_echoes_multiline_values() -> None:
    fake_key_text = "MC4CAQAwBQYDK2VwBCIEI\nMC4CAQAwBQYDK2VwBCIEI"
    with pytest.raises(ValueError) as error:
        load_signing_key(fake_key_text)
    assert "MC4C" not in str(error.value)


def test_load_signing_key_refuses_broken_pem_text() -> None:
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        load_signing_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_public_key_forms_round_trip(signing_key: SigningKey) -> None:
    public_key = signing_key.public_key
    text = public_key_base32(public_key)
    assert len(text) == 52
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert public_key_pem(public_key).startswith("-----BEGIN PUBLIC KEY-----")
    for written in (text, text.lower(), f" {text[:26]}\n{text[26:]} ", public_key_pem(public_key)):
        assert raw(parse_public_key(written)) == raw(public_key)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AAAA", "32 bytes"),
        ("not base32!", "not valid base32"),
        # 52 characters carry 260 bits; the last 4 must be zero in the canonical spelling.
        ("A" * 51 + "B", "not canonical"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
    ],
)
def test_parse_public_key_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_public_key(text)


def test_parse_public_key_refuses_other_key_types() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        parse_public_key(pem.decode("ascii"))


def test_keyring_from_base32_and_pem() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    ring = Keyring.from_texts([public_key_base32(old.public_key), public_key_pem(new.public_key)])
    assert ring.ids() == sorted([old.key_id, new.key_id])
    assert old.key_id in ring and new.key_id in ring
    assert len(ring) == 2
    found = ring.get(old.key_id)
    assert found is not None and raw(found) == raw(old.public_key)
    assert ring.get("00000000") is None
    assert "00000000" not in ring


def test_keyring_add_returns_id_and_tolerates_repeats(signing_key: SigningKey) -> None:
    ring = Keyring()
    assert ring.add(signing_key.public_key) == signing_key.key_id
    assert ring.add(signing_key.public_key) == signing_key.key_id
    assert ring.ids() == [signing_key.key_id]


def test_keyring_refuses_a_different_key_with_the_same_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys, "key_id", lambda _public_key: "DEADBEEF")
    ring = Keyring([SigningKey.generate().public_key])
    with pytest.raises(ValueError, match="DEADBEEF"):
        ring.add(SigningKey.generate().public_key)
