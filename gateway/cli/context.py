"""Shared CLI plumbing: settings and runtime built once per command."""

from __future__ import annotations

from gateway import migrate
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings, load_settings


def settings() -> Settings:
    return load_settings()


def runtime(s: Settings | None = None) -> Runtime:
    return build_runtime(s or settings())


def migrated_runtime(s: Settings | None = None) -> Runtime:
    rt = runtime(s)
    migrate.upgrade(rt.engine)
    return rt
