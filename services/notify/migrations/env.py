"""Alembic environment of the notify service (its own schema and version table)."""

from msgkit.migrations import run_env
from notify.persistence.tables import metadata

run_env(metadata)
