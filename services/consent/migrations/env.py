"""Alembic environment of the consent service (its own schema and version table)."""

from consent.tables import metadata
from msgkit.migrations import run_env

run_env(metadata)
