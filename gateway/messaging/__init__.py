"""Outbound messaging: the outbox relay, SMS templates, providers, sending jobs, delivery reports.

Importing the package imports nothing, so `gateway.messaging.models` can be loaded by Alembic
without pulling in Redis, RQ or any provider SDK.
"""
