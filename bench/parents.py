"""Run 8 (issue 20): parents at once, each walking the whole consent form like a browser without JavaScript.

Every parent is an httpx client with its own cookies and address (X-Forwarded-For, one trusted proxy, so the
per-client submission limit sees each parent apart), on the team's generic link, typing an imported child's
name, date of birth and postcode (so each response is matched). Every page is timed, GET or POST; the submit's
POST returns only once the consent service has committed the response and replied, so its round trip is
"submit → consent recorded" as the parent sees it. The same run measures the floor: a bare Starlette page
under uvicorn hit by as many clients, and the consent service's OpenConsentForm round trip on its own.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import workload as w
from bench.baseline import bare_page
from bench.cpu import CpuMeter
from bench.figures import percentile
from bench.phases import CLINIC_IN_DAYS, RssSampler, Sizes, team_with_clinic
from bench.stack import admin_dsn
from contracts.consent import GetTeamConsentLink, OpenConsentForm
from testkit.data import URN_HOME_EDUCATED
from testkit.stack import WEB, Stack

# The form's settings in this phase: plain http on loopback; the parents' addresses from X-Forwarded-For.
WEB_ENV = {"CONSENT_FORM_COOKIE_SECURE": "false", "CONSENT_FORM_TRUSTED_PROXIES": "1"}
FORM = "/consent/form/"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HEALTH = re.compile(r'type="radio"[^>]*name="(health-[^"]+)"|name="(health-[^"]+)"[^>]*type="radio"')
METRIC = re.compile(r"clinics_http_request_seconds_(?P<kind>sum|count)\{(?P<labels>[^}]*)\} (?P<value>\S+)")
LABEL = re.compile(r'(\w+)="([^"]*)"')
BORN = ("14", "3", "2015")  # testkit.data.cohort_row's date of birth
ANSWERS: dict[str, dict[str, str]] = {
    "date-of-birth": {"dob-day": BORN[0], "dob-month": BORN[1], "dob-year": BORN[2]},
    "school": {"education": "home_educated"},
    "parent": {"parent_name": "Pat Parent", "relationship": "mum"},
    "response-flu": {"response-flu": "nasal"},
    "address": {"address_line_1": "1 Street", "town": "London", "postcode": "SW1A 1AA"},
}
_KNOWN = "SELECT count(*) FROM consent.children WHERE team_ods = $1"
_RECORDED = "SELECT count(*) FROM consent.consent_responses WHERE team_ods = $1 AND route = 'website'"


@dataclass
class Timings:
    pages: list[float] = field(default_factory=list)  # ms, every request a parent made
    submits: list[tuple[float, float]] = field(default_factory=list)  # (started, answered), monotonic
    # Every parent waits on check answers until all are there, then all submit at once: the submissions'
    # rate is then the service's, not how far apart the walks happened to end.
    at_check: asyncio.Barrier | None = None


def _answers(n: int, step: str, html: str) -> dict[str, str]:
    if step == "name":
        return {"first_name": "Alex", "last_name": f"Bench{n}", "use_preferred": "no"}
    if step == "contact":
        return {"email": w.email_of(n), "phone": "", "text_updates": "no"}
    if step.startswith("health-"):
        return {a or b: "no" for a, b in HEALTH.findall(html)}
    return ANSWERS[step]


async def _timed(http: httpx.AsyncClient, timings: Timings, method: str, url: str, **kw: Any) -> httpx.Response:
    began = time.perf_counter()
    response = await http.request(method, url, **kw)
    timings.pages.append((time.perf_counter() - began) * 1000)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {response.status_code}")
    return response


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("a page without its CSRF token")
    return found.group(1)


async def parent(base: str, token: str, n: int, timings: Timings) -> None:
    """One parent: the link, Start now, every question, check answers, submit, the confirmation."""
    headers = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        start = await _timed(http, timings, "GET", f"/consent/{token}")
        moved = await _timed(http, timings, "POST", f"/consent/{token}", data={"csrf_token": _csrf(start.text)})
        location = moved.headers["location"]
        for _ in range(30):
            if location == FORM + "check-answers":
                break
            page = await _timed(http, timings, "GET", location)
            data = _answers(n, location.removeprefix(FORM), page.text) | {"csrf_token": _csrf(page.text)}
            location = (await _timed(http, timings, "POST", location, data=data)).headers["location"]
        check = await _timed(http, timings, "GET", FORM + "check-answers")
        if timings.at_check is not None:
            await timings.at_check.wait()
        began = time.monotonic()
        done = await _timed(http, timings, "POST", FORM + "check-answers", data={"csrf_token": _csrf(check.text)})
        timings.submits.append((began, time.monotonic()))
        if done.headers.get("location") != FORM + "confirmation":
            raise RuntimeError(f"parent {n}'s submit went to {done.headers.get('location')}")
        await _timed(http, timings, "GET", FORM + "confirmation")


async def _rpc_floor(client: Any, token: str, samples: int) -> list[float]:
    """The consent service's OpenConsentForm round trip, one at a time: what the start page waits for."""
    took = []
    for _ in range(samples):
        began = time.perf_counter()
        await w.ask(client, OpenConsentForm(token=token))
        took.append((time.perf_counter() - began) * 1000)
    return took


async def _prepare(stack: Stack, client: Any, db: w.Database, count: int) -> str:
    """A team with `count` children and one more, whose parent walks first, unmeasured: the form warmed up (its
    templates compiled, its broker connections open), as a service that has been serving is."""
    phase = "parents"
    ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_IN_DAYS, phase=phase)
    await w.import_cohort(client, ods, w.rows(count + 1, urn=URN_HOME_EDUCATED), year=year, phase=phase)
    await w.wait_count(lambda: db.count(_KNOWN, ods), count + 1, timeout=120, what="children in consent", phase=phase)
    return ods


async def parents(stack: Stack, sizes: Sizes, cpu: CpuMeter | None = None) -> dict[str, Any]:
    count, phase = sizes.parents, "parents"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    sampler, timings = RssSampler(stack), Timings()
    try:
        ods = await _prepare(stack, client, db, count)
        token = (await w.ask(client, GetTeamConsentLink(team_ods=ods)))["token"]
        rpc = await _rpc_floor(client, token, 50)
        await parent(stack.processes[WEB].base_url, token, count, Timings())
        before = await _served(stack.processes[WEB].base_url)  # only the parents' pages count
        bare = await bare_page(count, requests_each=len(ANSWERS) * 2 + 8)
        sampler.start()
        if cpu is not None:
            cpu.start()
        w.log(phase, f"{count} parents at once on the generic link: the clock starts")
        began, timings.at_check = time.monotonic(), asyncio.Barrier(count)
        await asyncio.gather(*(parent(stack.processes[WEB].base_url, token, n, timings) for n in range(count)))
        walked = time.monotonic() - began
        sampled = await sampler.stop()
        served = _means(before, await _served(stack.processes[WEB].base_url))
        w.log(phase, "mean ms per page inside the form: " + ", ".join(f"{k} {v:.0f}" for k, v in served.items()))
        await w.wait_count(lambda: db.count(_RECORDED, ods), count + 1, timeout=60, what="responses", phase=phase)
    finally:
        await db.close()
        await client.stop()
    return _figures(timings, walked, rpc, bare, sampled) | {"parent_page_server_mean_ms": served}


async def _served(base: str) -> dict[str, float]:
    """The form's request histogram: seconds (`sum <page>`) and requests (`count <page>`) per method and page."""
    async with httpx.AsyncClient(base_url=base) as http:
        text = (await http.get("/metrics/")).text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        found = METRIC.match(line)
        if found:
            labels = dict(LABEL.findall(found["labels"]))
            totals[f"{found['kind']} {labels.get('method')} {labels.get('page')}"] = float(found["value"])
    return totals


def _means(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The form's own mean ms per page between two readings: its time, apart from the driver's."""
    means = {}
    for key in sorted(k for k in after if k.startswith("count ")):
        page = key.removeprefix("count ")
        requests = after[key] - before.get(key, 0.0)
        if requests:
            means[page] = round(1000 * (after[f"sum {page}"] - before.get(f"sum {page}", 0.0)) / requests, 1)
    return means


def _figures(
    timings: Timings, walked: float, rpc: list[float], bare: list[float], sampled: dict[str, float]
) -> dict[str, Any]:
    first = min(s for s, _ in timings.submits)
    last = max(e for _, e in timings.submits)
    to_recorded = [(e - s) * 1000 for s, e in timings.submits]
    page_p95, bare_p95 = percentile(timings.pages, 95), percentile(bare, 95)
    return {
        "parents": len(timings.submits),
        "parent_pages": len(timings.pages),
        "parent_journey_s": round(walked, 2),
        "parent_page_p50_ms": percentile(timings.pages, 50),
        "parent_page_p95_ms": page_p95,
        "parent_page_p99_ms": percentile(timings.pages, 99),
        "parent_pages_per_s": len(timings.pages) / walked,
        "consent_submissions_per_s": len(timings.submits) / max(last - first, 1e-3),
        "submit_to_recorded_p50_ms": percentile(to_recorded, 50),
        "submit_to_recorded_p99_ms": percentile(to_recorded, 99),
        "bare_page_p95_ms": bare_p95,
        "bare_page_p99_ms": percentile(bare, 99),
        "parent_page_p95_ratio_to_bare": page_p95 / max(bare_p95, 1e-3),
        "rpc_open_form_p50_ms": percentile(rpc, 50),
        "rpc_open_form_p99_ms": percentile(rpc, 99),
        "parents_rss_sampled_mb": sampled,
    }
