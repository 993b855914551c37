"""Command line of the sessions service: `python -m sessions serve|migrate`."""

from __future__ import annotations

import sys

from msgkit.cli import run_service
from sessions.app import create_app
from sessions.config import Settings
from sessions.migrate import MIGRATIONS


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    run_service(
        argv if argv is not None else sys.argv[1:],
        settings=settings,
        create_app=lambda _: create_app(settings),
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
