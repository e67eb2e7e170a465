"""Property tests: parse() classifies any text without raising."""

import datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from tcode import GenuineVoucher, Keyring, Refused, SigningKey, TypedCode, parse, sign
from tcode.payload import QR_ALPHANUMERIC

# Module-level rather than fixtures: hypothesis refuses function-scoped fixtures in @given.
KEY = SigningKey.generate()
KEYRING = Keyring([KEY.public_key])
GENUINE = sign("4829135575", "KNH", datetime.date(2025, 3, 1), KEY)

qr_text = st.text(alphabet=sorted(QR_ALPHANUMERIC))
payload_like = st.lists(qr_text, min_size=0, max_size=8).map(lambda f: ":".join(["ORS1", *f]))


@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    assert isinstance(parse(text, KEYRING), TypedCode | GenuineVoucher | Refused)


@given(payload_like)
def test_unsigned_payload_like_text_is_never_genuine(text: str) -> None:
    result = parse(text, KEYRING)
    assert isinstance(result, Refused)


@given(st.integers(min_value=0, max_value=len(GENUINE) - 1), st.text(min_size=1, max_size=3))
def test_a_genuine_payload_with_inserted_text_is_never_genuine(position: int, noise: str) -> None:
    changed = GENUINE[:position] + noise + GENUINE[position:]
    # Whitespace and case noise are tolerated on purpose; they do not change the payload.
    assume("".join(changed.split()).upper() != GENUINE)
    assert not isinstance(parse(changed, KEYRING), GenuineVoucher)
