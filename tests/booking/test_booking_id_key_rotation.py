"""ORS_ID_HASH_KEY can rotate: each stored hash names its key, hashes made with an old key
(ORS_ID_HASH_OLD_KEYS) still match, and the current key writes (review: issue item 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import IdInUse
from gateway.booking.models import Citizen
from gateway.booking.operations.registration import key_id
from gateway.runtime import Runtime
from gateway.settings import Secrets
from tests.booking.conftest import use_rules

A, B = "+254700000001", "+254700000002"
OLD, NEW = "old-id-hash-key-0123456789", "new-id-hash-key-9876543210"
RAW_ID = "K7Q-2938 4756"


def use_keys(rt: Runtime, key: str, old: str = "") -> None:
    secrets = Secrets(id_hash_key=key, id_hash_old_keys=old)
    rt.booking.settings = rt.booking.settings.with_overrides(secrets=secrets)


def stored(rt: Runtime, phone: str) -> tuple[str | None, str | None]:
    with rt.reader() as s:
        row = s.execute(
            select(Citizen.national_id_hash, Citizen.national_id_key).where(Citizen.phone == phone)
        ).one()
    return row[0], row[1]


@pytest.fixture
def registered(catalog: Runtime) -> Runtime:
    use_rules(catalog, hospital="KNH", real_name=True)
    use_keys(catalog, OLD)
    catalog.booking.register(A, "Achieng Otieno", RAW_ID)
    return catalog


def test_each_hash_names_its_key_by_id_never_by_value(registered: Runtime) -> None:
    hashed, key = stored(registered, A)
    assert key == key_id(OLD) and len(key) == 8 and OLD not in key and hashed


def test_after_a_rotation_an_old_hash_still_blocks_a_second_phone(registered: Runtime) -> None:
    use_keys(registered, NEW, old=OLD)
    with pytest.raises(IdInUse):
        registered.booking.register(B, "Someone Else", RAW_ID)


def test_without_the_old_key_the_old_hash_no_longer_matches(registered: Runtime) -> None:
    use_keys(registered, NEW)  # the old key dropped too early: the operator's mistake
    registered.booking.register(B, "Someone Else", RAW_ID)
    assert stored(registered, B)[1] == key_id(NEW)


def test_the_holder_is_rewritten_under_the_new_key_when_touched(registered: Runtime) -> None:
    old_hash, _ = stored(registered, A)
    use_keys(registered, NEW, old=f"unrelated-key-000000000000, {OLD}")
    registered.booking.register(A, "Achieng Otieno", RAW_ID)  # the same person, again
    new_hash, key = stored(registered, A)
    assert key == key_id(NEW) and new_hash != old_hash


def test_staff_reassign_finds_an_id_hashed_under_an_old_key(registered: Runtime) -> None:
    use_keys(registered, NEW, old=OLD)
    registered.booking.reassign_id(B, RAW_ID, "desk-1", "lost SIM")
    assert stored(registered, A) == (None, None)
    assert stored(registered, B)[1] == key_id(NEW)
