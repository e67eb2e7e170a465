"""Fixtures for the tcode tests: signing keys and the keyrings that trust them."""

import pytest

from tcode import Keyring, SigningKey


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    """Give the key that signs vouchers in a test module."""
    return SigningKey.generate()


@pytest.fixture(scope="module")
def keyring(signing_key: SigningKey) -> Keyring:
    """Give a keyring that trusts only signing_key."""
    return Keyring([signing_key.public_key])
