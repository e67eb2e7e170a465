"""Create or upgrade the schema with Alembic (`ors migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""
    config = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The service's statement_timeout is sized for a USSD hop; building an index on a big
            # table runs longer. lock_timeout stays: behind live traffic the migration gives up
            # rather than queue every request behind its lock.
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
