"""T-code vouchers: codes with a check digit, signed QR payloads, and QR images.

A pure library: it imports nothing from gateway, menus or kiosk.
"""

from tcode.codes import generate, group, is_valid, normalize
from tcode.keys import Keyring, SigningKey, key_id
from tcode.payload import GenuineVoucher, Refused, TypedCode, parse, sign
from tcode.qr import render_png

__all__ = [
    "GenuineVoucher",
    "Keyring",
    "Refused",
    "SigningKey",
    "TypedCode",
    "generate",
    "group",
    "is_valid",
    "key_id",
    "normalize",
    "parse",
    "render_png",
    "sign",
]
