"""The demo's consent: requests go out by email and SMS; one parent answers online, the nurse phones another."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx

from clinics_cli.demo_core import FLU, NURSE, Demo, eventually
from clinics_cli.demo_online import FormProblem, Parent, answer_online, form_link, host_of
from contracts import cohort, consent
from contracts.common import MessageKind, Programme


async def request_consent(demo: Demo, child_id: uuid.UUID, who: str) -> None:
    """What a nurse does first: send the consent request, and wait until the activity log shows it gone out."""
    c = demo.client
    await c.ask(consent.SendConsentRequest(child_id=child_id, team_ods=demo.ods, programmes=FLU, requested_by=NURSE))
    await eventually(
        lambda: c.ask(cohort.GetActivityLog(child_id=child_id)),
        lambda log: _consent_request_channels(log) >= {"email", "sms"},
        "the consent request to be sent by email and SMS",
    )
    demo.say(f"{who}: consent request sent to the parent by email and SMS")


async def consent_by_phone(demo: Demo, home: uuid.UUID, who: str = "home-educated child") -> None:
    """Once the request has gone out (as a nurse would see it in the activity log), phone the parent."""
    await request_consent(demo, home, who)
    await demo.client.ask(consent.RecordConsent(
        child_id=home, team_ods=demo.ods, programme=Programme.FLU, response=consent.ConsentResponse.GIVEN,
        route=consent.ConsentRoute.PHONE, recorded_by=NURSE,
    ))  # fmt: skip
    demo.say("the nurse phones the parent: consent given by phone")


def _consent_request_channels(log: dict[str, Any]) -> set[str]:
    """The channels the activity log shows a consent request sent on."""
    return {
        e["details"].get("channel") for e in log["entries"]
        if e["kind"] == "notification_sent" and e["details"].get("message") == MessageKind.CONSENT_CLINIC_REQUEST
    }  # fmt: skip


def parent_of(cells: list[str]) -> Parent:
    """The demo cohort row's child, answered for by the parent the row names."""
    first, last, born, _, _, postcode, parent_name, _, email, phone = cells
    return Parent(first, last, date.fromisoformat(born), parent_name, email, phone, postcode)


async def consent_online(demo: Demo, cells: list[str], form_url: str | None) -> bool:
    """A parent answers on the consent form; the nurse sees "given" by website. False if the form is not there."""
    child_id, name = await demo.child(cells), f"{cells[0]} {cells[1]}"
    await request_consent(demo, child_id, f"{name} (home-educated)")
    team_link = await demo.client.ask(consent.GetTeamConsentLink(team_ods=demo.ods))
    link = form_link(team_link["url"], team_link["token"], form_url)
    try:
        steps, confirmation = await answer_online(link, parent_of(cells))
    except (httpx.TransportError, FormProblem) as exc:
        why = str(exc) if isinstance(exc, FormProblem) else f"{type(exc).__name__}: does `make dev` run it?"
        demo.say(f"the consent form at {host_of(link)} does not answer as expected ({why}); the nurse phones instead")
        demo.report["online_consent"] = {"answered": False, "why": why}
        return False
    demo.say(f"{name}'s parent answers online at {host_of(link)}, on the team's link (the email's own link is the "
             f"parent's alone), page by page: {', '.join(steps)}")  # fmt: skip
    demo.say(f"the form shows: {': '.join(confirmation.panel)}")
    await show_online_status(demo, child_id, name, steps)
    return True


async def show_online_status(demo: Demo, child_id: uuid.UUID, name: str, steps: list[str]) -> None:
    """What staff now see: matched to the child on name, date of birth and postcode; given, by website."""
    status = await eventually(
        lambda: demo.client.ask(consent.GetConsentStatus(child_id=child_id)),
        lambda s: _flu(s).get("status") == consent.ConsentStatus.GIVEN,
        "the online answer to be matched to the child and recorded",
    )
    flu = _flu(status)
    route = flu["responses"][-1]["route"]
    triage = ", needs triage" if flu.get("needs_triage") else ""
    demo.say(f"`clinics consent status` for {name}: flu consent {flu['status']}{triage}, route {route}; "
             "matched to the child on name, date of birth and postcode, with no phone call")  # fmt: skip
    demo.report["online_consent"] = {"answered": True, "child_id": str(child_id), "steps": steps,
                                     "status": flu["status"], "route": route}  # fmt: skip


def _flu(status: dict[str, Any]) -> dict[str, Any]:
    return next((p for p in status["programmes"] if p["programme"] == Programme.FLU), {})
