"""QR rendering: the PNG decodes back to a genuine voucher, also after rough handling."""

import datetime
import io
import random
from collections.abc import Callable
from typing import Any, Literal, cast

import pytest
import qrcode
import qrcode.constants
import qrcode.util
import zxingcpp
from PIL import Image, ImageChops

from tcode import GenuineVoucher, Keyring, SigningKey, generate, parse, render_png, sign
from tcode.qr import FIXED_MASK

VOUCHER_COUNT = 30
BOX_SIZE = 8
BORDER = 4
HOSPITALS = ["KNH", "MTRH", "A", "CGH12", "ZZZZZZZZ"]

Transform = Callable[[Image.Image], Image.Image]


def half_size(image: Image.Image) -> Image.Image:
    """Scale to 50 % with smoothing, as a phone screen or a thumbnail would."""
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)


def jpeg_40(image: Image.Image) -> Image.Image:
    """Recompress as JPEG quality 40, as messaging apps do."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue()))


def rotate_8(image: Image.Image) -> Image.Image:
    """Rotate by 8 degrees on a white background, as a hand-held scan would."""
    return image.rotate(8, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def all_three(image: Image.Image) -> Image.Image:
    """Scale, recompress and rotate, one after the other."""
    return rotate_8(jpeg_40(half_size(image)))


TRANSFORMS: dict[str, Transform] = {
    "as-rendered": lambda image: image,
    "half-size": half_size,
    "jpeg-40": jpeg_40,
    "rotate-8": rotate_8,
    "all-three": all_three,
}


def decode(image: Image.Image) -> str:
    """Return the text of the single QR code zxing-cpp finds in image."""
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1
    return found[0].text


def random_vouchers(seed: int) -> list[tuple[str, str, datetime.date]]:
    """Make (tcode, hospital, day) triples: random tcodes, reproducible hospitals and days."""
    chance = random.Random(seed)
    start = datetime.date(2025, 1, 1)
    return [
        (generate(), chance.choice(HOSPITALS), start + datetime.timedelta(chance.randrange(730)))
        for _ in range(VOUCHER_COUNT)
    ]


def png_image(payload: str, **options: Any) -> Image.Image:
    """Render payload and open the PNG as a greyscale image."""
    return Image.open(io.BytesIO(render_png(payload, **options))).convert("L")


@pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())
def test_qr_round_trip_is_genuine(
    signing_key: SigningKey, keyring: Keyring, transform: Transform
) -> None:
    for tcode, hospital, day in random_vouchers(seed=VOUCHER_COUNT):
        payload = sign(tcode, hospital, day, signing_key)
        text = decode(transform(png_image(payload)))
        expected = GenuineVoucher(tcode, hospital, day, signing_key.key_id)
        assert parse(text, keyring) == expected, payload


def test_automatic_mask_search_also_round_trips(signing_key: SigningKey, keyring: Keyring) -> None:
    payload = sign("4829135575", "KNH", datetime.date(2025, 3, 1), signing_key)
    assert decode(all_three(png_image(payload, mask=None))) == payload


def test_qr_is_alphanumeric_mode_at_level_m(signing_key: SigningKey) -> None:
    payload = sign("4829135575", "KNH", datetime.date(2025, 3, 1), signing_key)
    assert len(payload) == 141
    image = png_image(payload)
    # 141 characters fit version 6 (41 modules) only in alphanumeric mode; byte mode needs
    # version 8 (49 modules).
    modules = image.width // BOX_SIZE - 2 * BORDER
    assert (image.width, image.height) == (392, 392)
    assert modules == 4 * 6 + 17
    found = zxingcpp.read_barcodes(image)
    assert found[0].ec_level == "M"


def test_quiet_zone_is_four_white_modules(signing_key: SigningKey) -> None:
    image = png_image(sign("4829135575", "KNH", datetime.date(2025, 3, 1), signing_key))
    margin = BORDER * BOX_SIZE
    inner = (margin, margin, image.width - margin, image.height - margin)
    assert image.crop(inner).getextrema() == (0, 255)
    for box in (
        (0, 0, image.width, margin),
        (0, image.height - margin, image.width, image.height),
        (0, 0, margin, image.height),
        (image.width - margin, 0, image.width, image.height),
    ):
        assert image.crop(box).getextrema() == (255, 255)
    # The top-left finder pattern starts right at the edge of the quiet zone.
    assert image.getpixel((margin, margin)) == 0


def test_rendered_qr_uses_the_fixed_mask(signing_key: SigningKey) -> None:
    image = png_image(sign("4829135575", "KNH", datetime.date(2025, 3, 1), signing_key))
    barcode = zxingcpp.read_barcodes(image)[0]
    if not hasattr(barcode, "extra"):
        pytest.skip("this zxing-cpp does not report the data mask")
    assert isinstance(barcode.extra, dict)
    assert barcode.extra["DataMask"] == FIXED_MASK


@pytest.mark.parametrize("payload", ["ors1:lower", "ORS1=PAD", "ÄÖ"])
def test_render_refuses_non_alphanumeric_payloads(payload: str) -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        render_png(payload)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"border": 3}, "quiet zone"), ({"box_size": 0}, "box_size")],
)
def test_render_refuses_bad_geometry(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_png("ORS1", **options)


@pytest.mark.parametrize(("box_size", "border"), [(8, 4), (3, 6), (1, 4)])
def test_png_matches_qrcode_own_drawing(
    signing_key: SigningKey, box_size: int, border: int
) -> None:
    payload = sign(generate(), "KNH", datetime.date(2025, 3, 1), signing_key)
    reference = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=border,
        mask_pattern=FIXED_MASK,
    )
    # The stubs type MODE_ALPHA_NUM as a plain int; QRData wants one of the literal modes.
    alphanumeric = cast(Literal[2], qrcode.util.MODE_ALPHA_NUM)
    reference.add_data(qrcode.util.QRData(payload, mode=alphanumeric))
    expected = reference.make_image().get_image().convert("L")
    ours = png_image(payload, box_size=box_size, border=border)
    assert ours.size == expected.size
    assert ImageChops.difference(ours, expected).getbbox() is None


def test_box_size_scales_the_image() -> None:
    small = Image.open(io.BytesIO(render_png("ORS1", box_size=2)))
    large = Image.open(io.BytesIO(render_png("ORS1", box_size=10)))
    assert large.width == 5 * small.width
