"""The voucher signing key and the keyring of public keys that verify vouchers.

Production takes the private key from ORS_VOUCHER_KEY (PEM text or a path) and refuses to
start without it. The embedded demo creates its own key under the data folder on first start.
Older public keys stay in `vouchers.verify_keys`, so a key rotation never invalidates vouchers
already sent.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from gateway.settings import ConfigError, Settings
from tcode.keys import Keyring, SigningKey, load_signing_key, parse_public_key, write_private_key

DEMO_KEY_FILE = "voucher-key.pem"


@dataclass(frozen=True)
class VoucherKeys:
    signing: SigningKey
    keyring: Keyring


def load_voucher_keys(settings: Settings) -> VoucherKeys:
    signing = _signing_key(settings)
    keyring = Keyring()
    keyring.add(signing.public_key)
    for i, text in enumerate(settings.voucher_verify_keys):
        try:
            keyring.add(parse_public_key(_read(text)))
        except ValueError as exc:
            raise ConfigError(f"vouchers.verify_keys[{i}]: {exc}") from None
    return VoucherKeys(signing=signing, keyring=keyring)


def _signing_key(settings: Settings) -> SigningKey:
    value = settings.secrets.voucher_key
    if value:
        try:
            return load_signing_key(value)
        except ValueError as exc:
            raise ConfigError(f"ORS_VOUCHER_KEY: {exc}") from None
    if not settings.embedded:
        raise ConfigError(
            "ORS_VOUCHER_KEY: required in production (create one with `ors keys new`)"
        )
    return demo_key(settings.data_dir)


def demo_key(data_dir: Path) -> SigningKey:
    """The embedded mode's own key, created once in the data folder."""
    path = data_dir / DEMO_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Another process of the demo may have made it first: then use theirs.
        with contextlib.suppress(FileExistsError):
            write_private_key(path, SigningKey.generate())
    return load_signing_key(str(path))


def _read(text: str) -> str:
    path = Path(text)
    if "\n" not in text and len(text) < 4096 and path.exists():
        return path.read_text()
    return text
