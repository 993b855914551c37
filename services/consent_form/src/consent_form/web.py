"""The journey's routes: the start page from a link, one page per question, check answers, confirmation."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from consent_form import answers, forms, steps
from consent_form.drafts import Draft, DraftStore, new_session_key
from consent_form.gateway import Gateway, Refused, Unavailable
from consent_form.pages import Renderer
from consent_form.security import RateLimit, client_address
from consent_form.session import SessionCookies
from contracts.consent_form import ConsentFormView

log = logging.getLogger(__name__)
FORM = "/consent/form/"
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=")


def see_other(step: str) -> RedirectResponse:
    return RedirectResponse(FORM + step, status_code=303)


class Journey:
    """The pages, over the drafts store and the gateway to the consent and sessions services."""

    def __init__(
        self, *, store: DraftStore, gateway: Gateway, cookies: SessionCookies, limit: RateLimit, trusted_proxies: int
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.cookies = cookies
        self.limit = limit
        self.trusted_proxies = trusted_proxies
        self.render = Renderer()

    # --- the link --------------------------------------------------------------------------------

    async def _view(self, request: Request, token: str) -> ConsentFormView | Response:
        if not token or len(token) > 200 or not set(token) <= TOKEN_CHARS:
            return self.render.page(request, "link_problem.jinja", 404, expired=False)
        try:
            return await self.gateway.open_form(token)
        except Refused as exc:
            expired = exc.code == "link_expired"
            return self.render.page(request, "link_problem.jinja", 410 if expired else 404, expired=expired)
        except Unavailable:
            return self.unavailable(request)

    async def start(self, request: Request) -> Response:
        token = request.path_params["token"]
        view = await self._view(request, token)
        if isinstance(view, Response):
            return view
        nonce = secrets.token_urlsafe(32)
        response = self.render.page(request, "start.jinja", view=view, csrf=nonce)
        self.cookies.set_start(response, nonce)
        return response

    async def begin(self, request: Request) -> Response:
        """ "Start now": a draft for this link in this browser (an earlier one for the same link goes on)."""
        token = request.path_params["token"]
        form = await request.form()
        if not self.cookies.start_matches(request, str(form.get("csrf_token", ""))):
            return self.forbidden(request)
        key = self.cookies.session_key(request)
        draft = await self.store.load(key) if key else None
        if key and draft is not None and draft.token == token and not draft.submitted:
            return see_other(steps.next_step(draft.view, draft.answers))
        view = await self._view(request, token)
        if isinstance(view, Response):
            return view
        key, draft = new_session_key(), Draft(token=token, view=view)
        await self.store.create(key, draft)
        response = see_other(steps.next_step(view, draft.answers))
        self.cookies.set_session(response, key)
        return response

    # --- the questions ---------------------------------------------------------------------------

    async def _draft(self, request: Request) -> tuple[str, Draft] | Response:
        key = self.cookies.session_key(request)
        draft = await self.store.load(key) if key else None
        if key is None or draft is None:
            return self.render.page(request, "session_expired.jinja", 400)
        return key, draft

    async def show(self, request: Request) -> Response:
        found = await self._draft(request)
        if isinstance(found, Response):
            return found
        _, draft = found
        step = request.path_params["step"]
        if draft.submitted:
            return see_other("confirmation")
        if not steps.reachable(draft.view, draft.answers, step):
            return see_other(steps.next_step(draft.view, draft.answers))
        return await self._question(request, draft, step, dict(draft.answers), {})

    async def _question(
        self, request: Request, draft: Draft, step: str, values: dict[str, object], errors: dict[str, str]
    ) -> Response:
        if step == steps.CHECK:
            return await self._check(request, draft)
        if step == steps.CANNOT_CONSENT:
            return self.render.page(request, "cannot_consent.jinja", view=draft.view)
        kind, _, programme = step.partition("-") if step.startswith(("response-", "health-")) else (step, "", "")
        schools = await self.gateway.schools(draft.view.team_ods) if step == "school" else {}
        return self.render.page(
            request,
            f"steps/{kind}.jinja",
            422 if errors else 200,
            view=draft.view,
            values=values,
            errors=errors,
            csrf=draft.csrf_token,
            step=step,
            programme=next((p for p in draft.view.programmes if p.programme.value == programme), None),
            schools=schools,
            back=self._back(draft, step),
        )

    def _back(self, draft: Draft, step: str) -> str | None:
        asked = steps.steps_for(draft.view, draft.answers)
        if step == steps.CHECK:
            return FORM + asked[-1]
        index = asked.index(step) if step in asked else 0
        return FORM + asked[index - 1] if index > 0 else None

    async def answer(self, request: Request) -> Response:
        found = await self._draft(request)
        if isinstance(found, Response):
            return found
        key, draft = found
        step = request.path_params["step"]
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not secrets.compare_digest(form.get("csrf_token", ""), draft.csrf_token):
            return self.forbidden(request)
        if draft.submitted:
            return see_other("confirmation")
        if step == steps.CHECK:
            return await self.submit(request, key, draft)
        if step == steps.CANNOT_CONSENT or not steps.reachable(draft.view, draft.answers, step):
            return see_other(steps.next_step(draft.view, draft.answers))
        schools = await self.gateway.schools(draft.view.team_ods) if step == "school" else {}
        ctx = forms.Context(draft.view, schools, datetime.now(UTC).date())
        checked = forms.check_step(step, form, ctx)
        if checked.errors:
            return await self._question(request, draft, step, {**draft.answers, **form}, checked.errors)
        draft.answers.update(checked.values)
        steps.mark_done(draft.answers, step)
        await self.store.save(key, draft)
        return see_other(steps.next_step(draft.view, draft.answers))

    # --- check, submit, confirmation -------------------------------------------------------------

    async def _check(self, request: Request, draft: Draft) -> Response:
        schools = await self.gateway.schools(draft.view.team_ods) if draft.answers.get("education") == "school" else {}
        rows = answers.summary(draft.view, draft.answers, schools)
        return self.render.page(
            request,
            "check.jinja",
            view=draft.view,
            rows=rows,
            csrf=draft.csrf_token,
            back=self._back(draft, steps.CHECK),
        )

    async def submit(self, request: Request, key: str, draft: Draft) -> Response:
        if steps.next_step(draft.view, draft.answers) != steps.CHECK:
            return see_other(steps.next_step(draft.view, draft.answers))
        if not self.limit.allow(client_address(dict(request.scope), self.trusted_proxies)):
            log.warning("consent form submissions over the per-client limit")
            return self.render.page(request, "too_many.jinja", 429)
        try:
            form = answers.to_contract(draft.view, draft.answers)
        except (ValidationError, KeyError, ValueError):
            log.warning("a draft's answers do not make a contract form", extra={"response_id": str(draft.response_id)})
            return self.render.page(request, "session_expired.jinja", 400)
        try:
            receipt = await self.gateway.submit(draft.token, draft.response_id, form)
        except Refused as exc:
            return self.render.page(request, "link_problem.jinja", 410, expired=exc.code == "link_expired")
        except Unavailable:
            return self.unavailable(request)
        draft.receipt = receipt.model_dump(mode="json")
        await self.store.save(key, draft)
        log.info("consent form submitted", extra={"response_id": str(draft.response_id), "repeated": receipt.repeated})
        return see_other("confirmation")

    async def confirmation(self, request: Request) -> Response:
        found = await self._draft(request)
        if isinstance(found, Response):
            return found
        _, draft = found
        if not draft.submitted:
            return see_other(steps.next_step(draft.view, draft.answers))
        given = steps.given_programmes(draft.view, draft.answers)
        return self.render.page(
            request, "confirmation.jinja", view=draft.view, values=draft.answers, given=given, receipt=draft.receipt
        )

    def forbidden(self, request: Request) -> Response:
        return self.render.page(request, "session_expired.jinja", 403)

    def unavailable(self, request: Request) -> Response:
        return self.render.page(request, "unavailable.jinja", 503)
