"""RFC 4648 base32 without padding, as used for signatures and raw public keys.

Base32 upper case is inside the QR alphanumeric set, so signed payloads stay compact and
survive keyboard-wedge scanners; "=" padding is not in that set, hence no padding.
"""

import base64

_PADDING_BLOCK = 8


def encode(data: bytes) -> str:
    """Encode data as upper-case base32 without "=" padding."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def decode(text: str) -> bytes:
    """Decode upper-case unpadded base32, or raise ValueError for anything non-canonical."""
    padded = text + "=" * (-len(text) % _PADDING_BLOCK)
    try:
        data = base64.b32decode(padded)
    except ValueError as error:  # binascii.Error, or non-ASCII text
        raise ValueError(f"not valid base32: {error}") from None
    # b32decode ignores the unused low bits of the last character, so two different strings
    # could decode to the same bytes; only the canonical spelling may count as "the" value.
    if encode(data) != text:
        raise ValueError("not canonical unpadded base32")
    return data
