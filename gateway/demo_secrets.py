"""Secrets the embedded demo makes for itself, once, in its data folder.

Production takes every secret from the environment and refuses to start without the ones it
needs. The demo has no operator to set them, so it keeps its own under `app.data_dir` (as it
does its voucher key, gateway.voucher_keys): created on first use, readable by its owner only.
"""

from __future__ import annotations

import os
import secrets

from gateway.settings import Settings

ID_HASH_KEY_FILE = "id-hash.key"


def id_hash_key(settings: Settings) -> str:
    """ORS_ID_HASH_KEY, or in the embedded demo its own key; "" in production without one."""
    if settings.secrets.id_hash_key or not settings.embedded:
        return settings.secrets.id_hash_key
    path = settings.data_dir / ID_HASH_KEY_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()
