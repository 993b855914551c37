"""Alembic environment of the consent form (its own schema and version table)."""

from consent_form.tables import metadata
from msgkit.migrations import run_env

run_env(metadata)
