"""Alembic environment of the notify service (its own schema and version table)."""

from msgkit.migrations import run_env
from notify.tables import metadata

run_env(metadata)
