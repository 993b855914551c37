"""The one command each service is started with: `python -m <service> serve|migrate`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from faststream.asgi import AsgiFastStream

from msgkit.migrations import upgrade
from msgkit.runtime import serve
from msgkit.settings import ServiceSettings


def run_service(
    argv: list[str],
    *,
    settings: ServiceSettings,
    create_app: Callable[..., AsgiFastStream],
    migrations: Path,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {settings.service_name}")
    parser.add_argument("action", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    if args.action == "migrate":
        upgrade(migrations, url=settings.database_url.get_secret_value(), schema=settings.schema_name)
        print(f"{settings.service_name}: schema {settings.schema_name} migrated to head")
        return
    serve(create_app(settings), settings)
