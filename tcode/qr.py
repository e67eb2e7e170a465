"""Render a voucher payload as a QR code PNG."""

import io
from typing import Any, Literal, cast

import qrcode
import qrcode.constants
import qrcode.util
from PIL import Image

from tcode.payload import is_qr_alphanumeric

# The QR specification asks for a quiet zone of at least 4 modules; phone cameras and zxing
# lose codes printed or displayed tighter than that.
MIN_BORDER = 4

# qrcode scores all 8 masks and keeps the best, which is most of the render time. Measured with
# bench/qr_render.py (500 PNGs, 2-core box): 1.9-3.2 ms mean per PNG with a fixed mask against
# 7.5-11 ms with the search, p99 2.4-6 ms against 8-17 ms; the README's Benchmarks ask ≤ 5 ms. Our
# payloads are mostly signature bytes, which look random, so the masks score alike: over 1,000
# payloads mask 2 had the lowest mean penalty of the eight. zxing-cpp decoded every one of
# 1,200 fixed-mask vouchers as rendered, at 50 %, as JPEG quality 40, rotated 8 degrees and all
# three at once; in harsher trials (30 % scale, JPEG 25, 13 degrees) fixed and searched masks
# decoded alike and only failed together below ~1.8 pixels per module. So we keep the fixed
# mask, and the round-trip tests in tests/tcode keep checking that choice.
FIXED_MASK = 2


# The stubs type MODE_ALPHA_NUM as a plain int, but QRData wants one of the literal modes.
_ALPHANUMERIC = cast(Literal[2], qrcode.util.MODE_ALPHA_NUM)


def _build(payload: str, *, border: int, mask: int | None) -> qrcode.QRCode[Any]:
    """Lay out payload as one alphanumeric segment at error correction level M."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, mask_pattern=mask
    )
    # add_data(str) lets qrcode split the text into mixed segments; one explicit
    # alphanumeric segment keeps the symbol at the smallest version (6 for our payloads).
    code.add_data(qrcode.util.QRData(payload, mode=_ALPHANUMERIC))
    code.make(fit=True)
    return code


def _png(modules: list[list[bool]], box_size: int) -> bytes:
    """Draw a module matrix (quiet zone included) as a 1-bit PNG of box_size-pixel squares."""
    # One byte per module and a nearest-neighbour upscale: about 1 ms faster than qrcode's
    # PilImage, which draws every module as its own rectangle, and the same pixels.
    size = len(modules)
    pixels = bytes(0 if dark else 255 for row in modules for dark in row)
    image = Image.frombytes("L", (size, size), pixels).convert("1", dither=Image.Dither.NONE)
    image = image.resize((size * box_size, size * box_size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def render_png(
    payload: str,
    *,
    box_size: int = 8,
    border: int = MIN_BORDER,
    mask: int | None = FIXED_MASK,
) -> bytes:
    """Return payload as a black-on-white QR code PNG; mask=None searches all 8 masks."""
    if not is_qr_alphanumeric(payload):
        raise ValueError("a QR alphanumeric payload may hold only 0-9 A-Z space $ % * + - . / :")
    if border < MIN_BORDER:
        raise ValueError(f"the quiet zone must be at least {MIN_BORDER} modules wide")
    if box_size < 1:
        raise ValueError("box_size must be at least 1 pixel")
    return _png(_build(payload, border=border, mask=mask).get_matrix(), box_size)
