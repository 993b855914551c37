"""Composition root of the consent form: settings, logs, database, broker requester, routes and headers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from prometheus_client import Counter, Histogram, make_asgi_app
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from consent_form.config import Settings
from consent_form.drafts import DraftStore
from consent_form.gateway import BrokerGateway, Gateway
from consent_form.pages import STATIC
from consent_form.security import RateLimit, SecurityHeaders
from consent_form.session import SessionCookies
from consent_form.web import Journey
from msgkit import db, logs, metrics

log = logging.getLogger(__name__)
PAGE_SECONDS = Histogram(
    "clinics_http_request_seconds",
    "Time to answer one HTTP request, by page",
    ["service", "page", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SUBMISSIONS = Counter("clinics_consent_form_requests_total", "Consent form requests by status", ["service", "status"])
PURGE_INTERVAL = 300.0


def page_of(path: str) -> str:
    """A metric label without the token: the question's name, or the kind of page."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["consent", "form"] and len(parts) == 3:
        return parts[2] if len(parts[2]) <= 40 else "other"
    if parts[0] == "consent":
        return "start"
    return parts[0] if parts[0] in ("health", "metrics", "assets") else "other"


class Timing:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            PAGE_SECONDS.labels(self.service, page_of(scope["path"]), scope["method"]).observe(
                time.perf_counter() - started
            )


class Service:
    """What the app holds once started: engine, drafts and the gateway (made here unless a test gives one)."""

    def __init__(self, settings: Settings, gateway: Gateway | None) -> None:
        self.settings = settings
        # The broker gateway this app opens and closes itself (None when a test hands in its own).
        self.own_gateway: BrokerGateway | None = None
        if gateway is None:
            gateway = self.own_gateway = BrokerGateway(
                settings, timeout=settings.request_timeout, connections=settings.rpc_connections
            )
        self.gateway: Gateway = gateway
        self.engine = db.engine_for(settings)
        self.store = DraftStore(self.engine, lifetime=timedelta(minutes=settings.draft_minutes))
        self.journey = Journey(
            store=self.store,
            gateway=self.gateway,
            cookies=SessionCookies(secure=settings.cookie_secure, max_age=settings.draft_minutes * 60),
            limit=RateLimit(settings.submissions_per_minute),
            trusted_proxies=settings.trusted_proxies,
        )

    async def ready(self, request: Request) -> Response:
        checks = {"broker": True, "database": False}
        if self.own_gateway:
            try:
                checks["broker"] = await self.own_gateway.ping()
            except Exception:
                checks["broker"] = False
        try:
            async with asyncio.timeout(2.0), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        ok = all(checks.values())
        return JSONResponse({"service": self.settings.service_name, "checks": checks}, 200 if ok else 503)

    async def live(self, request: Request) -> Response:
        return JSONResponse({"status": "live", "service": self.settings.service_name})

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.own_gateway:
            await self.own_gateway.start()
        purge = asyncio.create_task(self._purge_forever())
        metrics.READY.labels(self.settings.service_name).set(1)
        log.info("service started", extra={"http_port": self.settings.http_port})
        try:
            yield
        finally:
            metrics.READY.labels(self.settings.service_name).set(0)
            purge.cancel()
            if self.own_gateway:
                await self.own_gateway.stop()
            await self.engine.dispose()

    async def _purge_forever(self) -> None:
        """Drafts nobody finished are deleted once their cookie has expired."""
        while True:
            try:
                removed = await self.store.purge_expired()
                if removed:
                    log.info("expired drafts deleted", extra={"count": removed})
            except Exception:
                log.exception("deleting expired drafts failed; trying again later")
            await asyncio.sleep(PURGE_INTERVAL)


def create_app(settings: Settings | None = None, *, gateway: Gateway | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    logs.configure(settings.service_name, level=settings.log_level, json=settings.log_json)
    service = Service(settings, gateway)
    j = service.journey
    routes = [
        Route("/health", service.ready),
        Route("/health/live", service.live),
        Route("/health/ready", service.ready),
        Mount("/metrics", make_asgi_app()),
        Mount("/assets", StaticFiles(directory=STATIC, check_dir=False)),
        Route("/consent/form/confirmation", j.confirmation),
        Route("/consent/form/{step}", j.show, methods=["GET"]),
        Route("/consent/form/{step}", j.answer, methods=["POST"]),
        Route("/consent/{token}", j.start, methods=["GET"]),
        Route("/consent/{token}", j.begin, methods=["POST"]),
    ]
    middleware = [
        Middleware(Timing, service=settings.service_name),
        Middleware(SecurityHeaders, hsts=settings.cookie_secure),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=service.lifespan)
    app.state.service = service
    return app
