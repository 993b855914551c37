"""Notify's tables, repositories (with their set-wise SQL beside them in `<thing>_sql.py`) and unit of work."""
