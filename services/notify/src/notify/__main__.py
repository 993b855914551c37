"""Command line of the notify service: `python -m notify serve|migrate`."""

from __future__ import annotations

import sys

from faststream.asgi import AsgiFastStream

from msgkit.cli import run_service
from msgkit.settings import ServiceSettings
from notify.app import create_app
from notify.config import Settings
from notify.migrate import MIGRATIONS


def _create(settings: ServiceSettings) -> AsgiFastStream:
    if not isinstance(settings, Settings):
        raise TypeError("notify needs notify.config.Settings")
    return create_app(settings)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv if argv is not None else sys.argv[1:],
        settings=Settings.from_env(),
        create_app=_create,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
