"""The embedded demo keeps its own ID-hash key (so `ors citizens erase` works there);
production only ever uses ORS_ID_HASH_KEY."""

from __future__ import annotations

from pathlib import Path

from gateway.demo_secrets import ID_HASH_KEY_FILE, id_hash_key
from gateway.settings import Secrets, Settings


def test_the_demo_makes_its_key_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    demo = Settings(data_dir=tmp_path / "var")

    first, second = id_hash_key(demo), id_hash_key(demo)

    assert len(first) == 64 and first == second
    assert (tmp_path / "var" / ID_HASH_KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_a_configured_key_wins_and_production_never_makes_one(tmp_path: Path) -> None:
    configured = Settings(data_dir=tmp_path, secrets=Secrets(id_hash_key="k" * 40))
    production = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://db/ors")

    assert id_hash_key(configured) == "k" * 40
    assert id_hash_key(production) == ""
    assert not (tmp_path / ID_HASH_KEY_FILE).exists()
