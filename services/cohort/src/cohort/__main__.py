"""Command line of the cohort service: `python -m cohort serve|migrate`."""

from __future__ import annotations

import sys

from faststream.asgi import AsgiFastStream

from cohort.app import create_app
from cohort.config import Settings
from cohort.migrate import MIGRATIONS
from msgkit.cli import run_service
from msgkit.settings import ServiceSettings


def _app(settings: ServiceSettings) -> AsgiFastStream:
    return create_app(Settings.model_validate(settings.model_dump()))


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv if argv is not None else sys.argv[1:], settings=Settings.from_env(), create_app=_app, migrations=MIGRATIONS
    )


if __name__ == "__main__":
    main()
