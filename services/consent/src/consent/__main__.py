"""Command line of the consent service: `python -m consent serve|migrate`."""

from __future__ import annotations

import sys

from faststream.asgi import AsgiFastStream

from consent.app import create_app
from consent.config import Settings
from consent.migrate import MIGRATIONS
from msgkit.cli import run_service
from msgkit.settings import ServiceSettings


def _create_app(settings: ServiceSettings) -> AsgiFastStream:
    # run_service hands back the Settings built below; the check only narrows the type.
    if not isinstance(settings, Settings):
        raise TypeError("consent needs consent.config.Settings")
    return create_app(settings)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv if argv is not None else sys.argv[1:],
        settings=Settings.from_env(),
        create_app=_create_app,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
