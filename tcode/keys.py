"""Ed25519 voucher keys: the server's signing key and the kiosks' keyring of public keys."""

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tcode import base32

_PEM_MARKER = "-----BEGIN"
_RAW_KEY_BYTES = 32
_KEY_ID_LENGTH = 8
_PRIVATE_FILE_MODE = 0o600
# A value this short and on one line may be echoed in an error; anything else may be a secret.
_ECHO_LIMIT = 200


def _raw_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the raw 32-byte encoding of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the key id: the first 8 upper-case hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(_raw_bytes(public_key)).hexdigest()[:_KEY_ID_LENGTH].upper()


class SigningKey:
    """Hold the Ed25519 private key that signs vouchers, with its public key and key id."""

    __slots__ = ("_key_id", "_private_key", "_public_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Wrap an Ed25519 private key."""
        self._private_key = private_key
        self._public_key = private_key.public_key()
        self._key_id = key_id(self._public_key)

    def __repr__(self) -> str:
        """Name the key by its id only, so logs never carry the secret."""
        return f"SigningKey(key_id={self._key_id!r})"

    @property
    def key_id(self) -> str:
        """Return the id printed in every payload this key signs."""
        return self._key_id

    @property
    def public_key(self) -> Ed25519PublicKey:
        """Return the public key that kiosks need to verify this key's signatures."""
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of data."""
        return self._private_key.sign(data)

    @classmethod
    def generate(cls) -> "SigningKey":
        """Create a new random signing key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> "SigningKey":
        """Load an unencrypted PKCS8 PEM Ed25519 private key, or raise ValueError."""
        try:
            private_key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            # TypeError means the PEM is encrypted; the server has no passphrase to offer.
            raise ValueError(f"not an unencrypted PEM private key ({error})") from None
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError("the PEM private key is not an Ed25519 key")
        return cls(private_key)

    def to_pem(self) -> bytes:
        """Serialise the private key as unencrypted PKCS8 PEM."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _describe(value: str) -> str:
    """Quote value for an error message only when it cannot be key material."""
    if "\n" in value or len(value) > _ECHO_LIMIT:
        return "the given value"
    return repr(value)


def load_signing_key(value: str) -> SigningKey:
    """Load a signing key from PEM text or from the path of a PEM file, or raise ValueError."""
    if value.lstrip().startswith(_PEM_MARKER):
        return SigningKey.from_pem(value.encode("ascii", errors="replace"))
    path = Path(value).expanduser()
    if not value.strip() or not path.is_file():
        raise ValueError(f"{_describe(value)} is neither PEM text nor a readable key file")
    try:
        return SigningKey.from_pem(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load the signing key in {path}: {error}") from None


def write_private_key(path: str | os.PathLike[str], key: SigningKey) -> None:
    """Write key as PEM to a new file readable by its owner only; never overwrite."""
    # O_EXCL makes "refuse to overwrite" atomic, and the mode is set at creation so the key is
    # never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), _PRIVATE_FILE_MODE)  # a strict umask must not change it
        file.write(key.to_pem())


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """Return public_key as SubjectPublicKeyInfo PEM text."""
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def public_key_base32(public_key: Ed25519PublicKey) -> str:
    """Return the raw public key as upper-case unpadded base32 (52 characters)."""
    return base32.encode(_raw_bytes(public_key))


def _public_key_from_pem(text: str) -> Ed25519PublicKey:
    """Parse a PEM public key, or raise ValueError unless it is Ed25519."""
    try:
        public_key = serialization.load_pem_public_key(text.encode("ascii", errors="replace"))
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not a PEM public key ({error})") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValueError("the PEM public key is not an Ed25519 key")
    return public_key


def _public_key_from_base32(text: str) -> Ed25519PublicKey:
    """Parse a raw public key written in unpadded base32, or raise ValueError."""
    # Keys are pasted into config files and kiosk settings: forgive case and stray whitespace.
    raw = base32.decode("".join(text.split()).upper())
    if len(raw) != _RAW_KEY_BYTES:
        raise ValueError(f"a raw Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Parse an Ed25519 public key written as PEM or as raw base32, or raise ValueError."""
    if text.lstrip().startswith(_PEM_MARKER):
        return _public_key_from_pem(text)
    return _public_key_from_base32(text)


class Keyring:
    """Map key ids to the public keys a verifier trusts; old and new keys may sit side by side."""

    __slots__ = ("_keys",)

    def __init__(self, public_keys: Iterable[Ed25519PublicKey] = ()) -> None:
        """Start a keyring holding public_keys."""
        self._keys: dict[str, Ed25519PublicKey] = {}
        for public_key in public_keys:
            self.add(public_key)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Keyring":
        """Build a keyring from public keys written as PEM or raw base32."""
        return cls(parse_public_key(text) for text in texts)

    def __repr__(self) -> str:
        """List the key ids held."""
        return f"Keyring({self.ids()!r})"

    def __contains__(self, key_id: object) -> bool:
        """Tell whether a key with this id is trusted."""
        return key_id in self._keys

    def __len__(self) -> int:
        """Return the number of trusted keys."""
        return len(self._keys)

    def add(self, public_key: Ed25519PublicKey) -> str:
        """Trust public_key and return its id; refuse a different key with the same id."""
        new_id = key_id(public_key)
        known = self._keys.get(new_id)
        # Ids are 32 bits: a clash is unlikely, but silently replacing a key would make every
        # voucher signed by the old one look forged.
        if known is not None and _raw_bytes(known) != _raw_bytes(public_key):
            raise ValueError(f"two different public keys share the key id {new_id}")
        self._keys[new_id] = public_key
        return new_id

    def get(self, key_id: str) -> Ed25519PublicKey | None:
        """Return the public key with this id, or None if it is not trusted."""
        return self._keys.get(key_id)

    def ids(self) -> list[str]:
        """Return the trusted key ids in sorted order."""
        return sorted(self._keys)
