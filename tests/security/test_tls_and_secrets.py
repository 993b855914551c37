"""TLS to RabbitMQ and PostgreSQL is configurable, and secrets come only from the environment.

- amqps:// makes the kit's broker open TLS (a loopback listener sees a TLS ClientHello, not "AMQP"),
  with the CA and client certificate files from `<SERVICE>_RABBITMQ_CA_FILE` / `_CERT_FILE` / `_KEY_FILE`.
- `?sslmode=` / `?ssl=` in the database URL or `<SERVICE>_DATABASE_SSLMODE` (+ `_SSL_ROOT_CERT`) reach
  asyncpg: with `require`, the local server (which has TLS off) is asked for TLS and refuses it.
- Secrets are SecretStr settings read from `<SERVICE>_*` variables, never printed, and neither the
  services nor the CLI take them as command-line options.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import certifi
import pytest
import typer
from pydantic import SecretStr
from sqlalchemy import text

from contracts.topology import SERVICES
from msgkit import db
from msgkit.broker import make_broker, tls_options
from msgkit.settings import ServiceSettings

SECRET_WORDS = ("password", "passwd", "secret", "token", "api-key", "apikey", "api_key", "credential")
TLS_RECORD = b"\x16\x03"  # a TLS handshake record: what a ClientHello starts with


def settings_class(service: str) -> type[ServiceSettings]:
    cls: type[ServiceSettings] = importlib.import_module(f"{service}.config").Settings
    return cls


# --- RabbitMQ -------------------------------------------------------------------------------------


@pytest.fixture
async def first_bytes() -> AsyncIterator[tuple[int, asyncio.Future[bytes]]]:
    """A loopback listener that records the first bytes a client sends, then hangs up."""
    seen: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(8)
        if not seen.done():
            seen.set_result(data)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, seen


async def opening_bytes(url: str, settings: ServiceSettings, seen: asyncio.Future[bytes]) -> bytes:
    broker = make_broker(url, service="cohort", prefetch_count=1, graceful_timeout=1, ssl_options=tls_options(settings))
    connecting = asyncio.ensure_future(broker.connect())
    try:
        return await asyncio.wait_for(asyncio.shield(seen), timeout=10)
    finally:
        connecting.cancel()
        with contextlib.suppress(BaseException):
            await connecting
        with contextlib.suppress(BaseException):
            await broker.stop()


@pytest.mark.integration
async def test_amqps_url_makes_the_broker_speak_tls(first_bytes: tuple[int, asyncio.Future[bytes]]) -> None:
    port, seen = first_bytes
    settings = ServiceSettings(rabbitmq_url=f"amqps://cohort:pw@127.0.0.1:{port}/")
    assert (await opening_bytes(settings.rabbitmq_url.get_secret_value(), settings, seen)).startswith(TLS_RECORD)


@pytest.mark.integration
async def test_amqp_url_stays_plain(first_bytes: tuple[int, asyncio.Future[bytes]]) -> None:
    port, seen = first_bytes
    settings = ServiceSettings(rabbitmq_url=f"amqp://cohort:pw@127.0.0.1:{port}/")
    assert (await opening_bytes(settings.rabbitmq_url.get_secret_value(), settings, seen)).startswith(b"AMQP")


@pytest.mark.unit
def test_certificate_files_come_from_the_services_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COHORT_RABBITMQ_URL", "amqps://cohort:pw@mq.example.org/clinics")
    monkeypatch.setenv("COHORT_RABBITMQ_CA_FILE", "/etc/clinics/ca.pem")
    monkeypatch.setenv("COHORT_RABBITMQ_CERT_FILE", "/etc/clinics/cohort.pem")
    monkeypatch.setenv("COHORT_RABBITMQ_KEY_FILE", "/etc/clinics/cohort.key")
    settings = settings_class("cohort").from_env()
    assert tls_options(settings) == {
        "cafile": "/etc/clinics/ca.pem",
        "certfile": "/etc/clinics/cohort.pem",
        "keyfile": "/etc/clinics/cohort.key",
    }
    assert tls_options(ServiceSettings()) is None


# --- PostgreSQL ------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db/clinics?sslmode=require", "postgresql+asyncpg://u:p@db/clinics?ssl=require"),
        ("postgres://u:p@db/clinics?ssl=verify-full", "postgresql+asyncpg://u:p@db/clinics?ssl=verify-full"),
        ("postgresql+asyncpg://u:p@db/clinics", "postgresql+asyncpg://u:p@db/clinics"),
    ],
)
def test_the_url_sslmode_reaches_asyncpg_as_ssl(url: str, expected: str) -> None:
    assert db.async_url(url) == expected
    assert "sslmode=" in db.sync_url(url) or "ssl" not in url


@pytest.mark.unit
def test_sslmode_setting_becomes_asyncpgs_ssl_argument() -> None:
    assert "ssl" not in db.connect_args("cohort")
    assert db.connect_args("cohort", sslmode="require")["ssl"] == "require"
    ca = certifi.where()  # any real CA bundle will do as the root certificate
    full = db.connect_args("cohort", sslmode="verify-full", ssl_root_cert=str(ca))["ssl"]
    assert isinstance(full, ssl.SSLContext) and full.check_hostname and full.verify_mode == ssl.CERT_REQUIRED
    verify_ca = db.connect_args("cohort", sslmode="verify-ca", ssl_root_cert=str(ca))["ssl"]
    assert isinstance(verify_ca, ssl.SSLContext) and not verify_ca.check_hostname
    with pytest.raises(ValueError, match="sslmode must be one of"):
        db.ssl_argument("sometimes")


@pytest.mark.unit
def test_sslmode_comes_from_the_services_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_DATABASE_SSLMODE", "verify-full")
    monkeypatch.setenv("NOTIFY_DATABASE_SSL_ROOT_CERT", "/etc/clinics/pg-ca.pem")
    settings = settings_class("notify").from_env()
    assert (settings.database_sslmode, settings.database_ssl_root_cert) == ("verify-full", "/etc/clinics/pg-ca.pem")


@pytest.mark.integration
@pytest.mark.parametrize("how", ["setting", "url"])
async def test_sslmode_require_asks_the_server_for_tls(database_url: str, how: str) -> None:
    """The local server has TLS off: `require` must fail to connect (so the option really reached asyncpg)."""
    url = f"{database_url}?sslmode=require" if how == "url" else database_url
    engine = db.create_engine(url, schema="public", sslmode="require" if how == "setting" else None)
    try:
        with pytest.raises(ConnectionError, match="SSL"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    plain = db.create_engine(f"{database_url}?sslmode=disable", schema="public")
    try:
        async with plain.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await plain.dispose()


# --- secrets ---------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_secrets_are_read_from_the_environment_and_never_printed(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = service.upper()
    secrets = {
        f"{prefix}_DATABASE_URL": "postgresql://cohort:db-Secret-1@db/clinics",
        f"{prefix}_RABBITMQ_URL": "amqps://cohort:mq-Secret-2@mq/clinics",
    }
    if service == "notify":
        secrets |= {"NOTIFY_GOVUK_API_KEY": "key-Secret-3", "NOTIFY_CALLBACK_TOKEN": "cb-Secret-4"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = settings_class(service).from_env()
    secret_fields = {name for name, value in settings if isinstance(value, SecretStr)}
    assert {"database_url", "rabbitmq_url"} <= secret_fields
    assert {getattr(settings, f).get_secret_value() for f in secret_fields} >= set(secrets.values())
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for value in secrets.values():
        assert value not in shown


@pytest.mark.unit
def test_shared_urls_are_the_fallback_and_are_secret_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_RABBITMQ_URL", raising=False)
    monkeypatch.setenv("RABBITMQ_URL", "amqp://consent:shared-Secret@mq/")
    settings = settings_class("consent").from_env()
    assert settings.rabbitmq_url.get_secret_value() == "amqp://consent:shared-Secret@mq/"
    assert "shared-Secret" not in repr(settings)


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_a_service_takes_no_options_but_its_action(service: str) -> None:
    """`python -m <service>` reads every setting (secrets included) from the environment."""
    shown = subprocess.run([sys.executable, "-m", service, "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    options = [word for word in shown.stdout.split() if word.startswith("--")]
    assert options == ["--help"], shown.stdout


def _cli_options() -> dict[str, Any]:
    from clinics_cli.main import app

    found: dict[str, Any] = {}

    # typer may bring its own copy of click, so the tree is walked by shape, not by class.
    def walk(command: Any, path: str) -> None:
        for param in command.params:
            for opt in (*param.opts, *param.secondary_opts):
                found[f"{path} {opt}"] = param
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "clinics")
    return found


@pytest.mark.unit
def test_the_cli_has_no_option_for_a_secret() -> None:
    options = _cli_options()
    assert options, "the CLI's options were not found"
    offending = [name for name in options if any(word in name.lower() for word in SECRET_WORDS)]
    assert not offending, offending


@pytest.mark.unit
def test_the_cli_reads_its_broker_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from clinics_cli.client import broker_url

    monkeypatch.setenv("CLINICS_RABBITMQ_URL", "amqp://staff:from-Env@mq/")
    assert broker_url() == "amqp://staff:from-Env@mq/"


@pytest.mark.unit
def test_the_cli_refuses_a_password_on_the_command_line() -> None:
    from typer.testing import CliRunner

    from clinics_cli.main import app

    result = CliRunner().invoke(app, ["--url", "amqp://staff:on-the-Command-line@127.0.0.1:1/", "dead-letters", "list"])
    assert result.exit_code == 2, result.output
