"""The cohort service."""
