"""Alembic environment of the cohort service (its own schema and version table)."""

from cohort.tables import metadata
from msgkit.migrations import run_env

run_env(metadata)
