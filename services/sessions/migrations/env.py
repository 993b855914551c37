"""Alembic environment of the sessions service (its own schema and version table)."""

from msgkit.migrations import run_env
from sessions.tables import metadata

run_env(metadata)
