"""Key rotation through configuration: old vouchers still verify after a new signing key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway.settings import ConfigError, Secrets, Settings
from gateway.voucher_keys import DEMO_KEY_FILE, load_voucher_keys
from tcode.keys import SigningKey, public_key_base32, public_key_pem
from tcode.payload import GenuineVoucher, Refused, parse, sign


def production(settings: Settings, key: SigningKey, verify: tuple[str, ...] = ()) -> Settings:
    return settings.with_overrides(
        database_url="postgresql+psycopg://x@127.0.0.1/x",
        secrets=Secrets(voucher_key=key.to_pem().decode()),
        voucher_verify_keys=verify,
    )


def test_vouchers_signed_before_a_rotation_still_verify(settings: Settings, tmp_path: Path) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    voucher = sign("4829135575", "KNH", date(2026, 11, 24), old)
    pem_file = tmp_path / "old.pub.pem"
    pem_file.write_text(public_key_pem(old.public_key))
    for verify in [
        (public_key_pem(old.public_key),),
        (public_key_base32(old.public_key),),
        (str(pem_file),),
    ]:
        keys = load_voucher_keys(production(settings, new, verify))
        assert keys.signing.key_id == new.key_id
        assert isinstance(parse(voucher, keys.keyring), GenuineVoucher)
    keys = load_voucher_keys(production(settings, new))
    refused = parse(voucher, keys.keyring)
    assert isinstance(refused, Refused) and refused.reason == "unknown_key"


def test_production_without_a_signing_key_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"^ORS_VOUCHER_KEY: required in production"):
        load_voucher_keys(settings.with_overrides(database_url="postgresql+psycopg://x@h/x"))


def test_a_bad_verify_key_names_its_position(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"^vouchers.verify_keys\[0\]"):
        load_voucher_keys(production(settings, SigningKey.generate(), ("not a key",)))


def test_the_demo_makes_its_own_key_once(settings: Settings) -> None:
    first = load_voucher_keys(settings)
    assert (settings.data_dir / DEMO_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert load_voucher_keys(settings).signing.key_id == first.signing.key_id
