"""Migrations 0002 and 0004 create exactly the messaging tables the models describe, and go back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from gateway import migrate
from gateway.booking.models import Base
from gateway.messaging.models import Message, PendingReport, ReminderSent

TABLES = {Message.__tablename__, PendingReport.__tablename__, ReminderSent.__tablename__}


def _touches_ours(diff: object) -> bool:
    text = repr(diff)
    return any(f"'{t}'" in text or f"{t}." in text or f"table_name='{t}'" in text for t in TABLES)


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if _touches_ours(d)] == []
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":  # the shared PostgreSQL schema stays as it is
        return
    migrate_to(engine, "0001")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def migrate_to(engine: Engine, revision: str) -> None:
    from alembic import command

    config = migrate.alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
