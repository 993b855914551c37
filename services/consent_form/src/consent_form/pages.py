"""Rendering: the Jinja environment on the NHS.UK frontend macros, and the context every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from consent_form import steps, wording

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PackageLoader("nhsuk_frontend_jinja")]),
        # Every value is escaped unless a template says otherwise (none does for what a parent typed).
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=ChainableUndefined,  # the NHS.UK macros read optional nested parameters
        auto_reload=False,
        enable_async=False,
    )
    env.globals.update(wording=wording, steps=steps)
    env.filters["programme_name"] = wording.programme_name
    return env


class Renderer:
    def __init__(self) -> None:
        self.env = environment()

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        errors: dict[str, str] = context.get("errors") or {}
        context.setdefault("values", {})
        context["errors"] = errors
        context["error_list"] = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
        context["cspNonce"] = request.scope.get("state", {}).get("csp_nonce", "")
        context["assetPath"] = "/assets"
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status)
