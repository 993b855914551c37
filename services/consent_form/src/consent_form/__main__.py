"""Command line of the consent form: `python -m consent_form serve|migrate`."""

from __future__ import annotations

import argparse
import sys

from consent_form.app import create_app
from consent_form.config import Settings
from consent_form.migrate import MIGRATIONS
from msgkit.migrations import upgrade


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m consent_form")
    parser.add_argument("action", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.action == "migrate":
        upgrade(MIGRATIONS, url=settings.database_url.get_secret_value(), schema=settings.schema_name)
        print(f"consent_form: schema {settings.schema_name} migrated to head")
        return
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        # Access lines would carry the link token in the start page's path.
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        lifespan="on",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
