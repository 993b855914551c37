"""Engines and sessions: created at start-up, each pinned to its service's own schema."""

from __future__ import annotations

import ssl

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from msgkit.settings import ServiceSettings

SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    query = dict(parsed.query)
    if "sslmode" in query:
        # asyncpg takes libpq's `sslmode` as its `ssl` argument; SQLAlchemy passes the query through.
        query.setdefault("ssl", query.pop("sslmode"))
    return parsed.set(drivername="postgresql+asyncpg", query=query).render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same database for tools that want a plain libpq URL (psql, asyncpg.connect)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    query = dict(parsed.query)
    if "ssl" in query:
        query.setdefault("sslmode", query.pop("ssl"))
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


def ssl_argument(sslmode: str | None, root_cert: str | None = None) -> str | ssl.SSLContext | None:
    """asyncpg's `ssl` connect argument for a libpq sslmode; None leaves the URL (or asyncpg) to decide."""
    if not sslmode:
        return None
    if sslmode not in SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(sorted(SSL_MODES))}")
    if root_cert and sslmode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context(cafile=root_cert)
        context.check_hostname = sslmode == "verify-full"
        return context
    return sslmode


def connect_args(schema: str, *, sslmode: str | None = None, ssl_root_cert: str | None = None) -> dict[str, object]:
    # search_path keeps unqualified SQL inside the service's own schema.
    args: dict[str, object] = {"server_settings": {"search_path": schema, "application_name": schema}}
    tls = ssl_argument(sslmode, ssl_root_cert)
    if tls is not None:
        args["ssl"] = tls
    return args


def create_engine(
    url: str, *, schema: str, pool_size: int = 10, sslmode: str | None = None, ssl_root_cert: str | None = None
) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: asyncpg's costs three round trips (BEGIN, SELECT 1, ROLLBACK) on every checkout,
        # a third of a dispatcher step. A connection that died (PostgreSQL restarted) fails its first
        # statement instead; SQLAlchemy then invalidates the whole pool, and the message is retried.
        pool_pre_ping=False,
        # A failed statement's error (logged, and quoted in dead-letter reasons) must not carry its
        # parameters: they are children's and parents' names and contact details.
        hide_parameters=True,
        connect_args=connect_args(schema, sslmode=sslmode, ssl_root_cert=ssl_root_cert),
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_for(settings: ServiceSettings) -> AsyncEngine:
    """The engine a service or client of the kit opens on its own schema, as its settings say."""
    return create_engine(
        settings.database_url.get_secret_value(),
        schema=settings.schema_name,
        pool_size=settings.db_pool_size,
        sslmode=settings.database_sslmode,
        ssl_root_cert=settings.database_ssl_root_cert,
    )
