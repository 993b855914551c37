"""Bad input against the running services: every queue of every service, through the real broker.

Malformed messages (not JSON, the wrong shape, a field missing, retyped, huge, an unknown enum value,
an impossible date) are published raw to each service's exchanges. Each asynchronous one must land in
its `<queue>.dlq` with an `x-death-reason` naming the problem; each request must get an error reply
naming it (never a timeout). Requests about unknown ids get a clear refusal. Afterwards every service
is still ready and still does its work, and a cohort import with one bad row imports nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractChannel
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, consent, notify, sessions, topology
from contracts.common import Programme
from contracts.envelope import Message, Reply
from msgkit import rpc
from msgkit.broker import exchange
from msgkit.deadletter import REASON_HEADER
from testkit import admin_user, eventually

from ..badinput.bodies import breakages, valid_body
from .support import HEADER, child, child_id, import_rows, refusal
from .test_clinic_flow import clinic_on, create_team, new_team, seed, today, wait_for_activity

pytestmark = pytest.mark.e2e

ASYNC = [b for b in topology.all_bindings() if not b.is_request]
REQUESTS = [b for b in topology.all_bindings() if b.is_request]
KINDS_PER_QUEUE = (
    "missing",
    "unknown enum value",
    "huge string",
    "invalid date",
    "retyped as an object",
    "control characters",
)


@dataclass(frozen=True)
class Junk:
    """One bad body for one queue, and what its reason must mention."""

    binding: topology.Binding
    label: str
    body: bytes
    mentions: str
    message_id: str = ""


def junk_for(binding: topology.Binding) -> list[Junk]:
    cases = [
        Junk(binding, "not JSON", b'{"message_id": "' + b"x" * 10, "Invalid JSON"),
        Junk(binding, "a JSON list", b"[1, 2, 3]", "invalid message"),
    ]
    for kind in KINDS_PER_QUEUE:
        found = next((b for b in breakages(binding.message) if b.how.startswith(kind)), None)
        if found is not None:
            field = found.field.split(".")[0]
            cases.append(Junk(binding, f"{found.field} {found.how}"[:80], json.dumps(found.body).encode(), field))
    return [Junk(c.binding, c.label, c.body, c.mentions, str(uuid.uuid4())) for c in cases]


async def publish_raw(channel: AbstractChannel, junk: Junk, *, reply_to: str | None = None) -> None:
    target = await channel.get_exchange(junk.binding.exchange, ensure=False)
    message = aio_pika.Message(
        junk.body,
        message_id=junk.message_id,
        correlation_id=junk.message_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        type=junk.binding.message.__name__,
        reply_to=reply_to,
        user_id=admin_user(),  # an operator's: the junk is judged on its body, not refused for its sender
    )
    await target.publish(message, routing_key=junk.binding.routing_key, mandatory=True)


async def collect_dead_letters(channel: AbstractChannel, wanted: list[Junk], timeout: float) -> dict[str, str]:
    """Reasons of the wanted messages, taken (acked) from their dead-letter queues; others are left there."""
    by_queue: dict[str, set[str]] = {}
    for junk in wanted:
        by_queue.setdefault(junk.binding.dead_letter_queue, set()).add(junk.message_id)
    reasons: dict[str, str] = {}

    async def sweep() -> bool:
        for name, ids in by_queue.items():
            queue = await channel.get_queue(name, ensure=False)
            others = []
            while (message := await queue.get(fail=False, no_ack=False)) is not None:
                if message.message_id in ids:
                    reasons[str(message.message_id)] = str((message.headers or {}).get(REASON_HEADER, ""))
                    await message.ack()
                else:
                    others.append(message)
            for message in others:
                await message.nack(requeue=True)
        return len(reasons) == len(wanted)

    try:
        await eventually(sweep, timeout=timeout, interval=0.5, what="every bad message in its dead-letter queue")
    except AssertionError:
        missing = [f"{j.binding.queue}: {j.label}" for j in wanted if j.message_id not in reasons]
        raise AssertionError(f"{len(missing)} bad messages were not dead-lettered: {missing[:20]}") from None
    return reasons


@pytest.fixture
async def channel(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Any:
    connection = await aio_pika.connect(e2e_amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


async def test_every_malformed_message_on_every_queue_is_dead_lettered_with_its_reason(
    channel: AbstractChannel,
) -> None:
    sent = [junk for binding in ASYNC for junk in junk_for(binding)]
    assert len({j.binding.queue for j in sent}) == len(ASYNC)
    for junk in sent:
        await publish_raw(channel, junk)
    reasons = await collect_dead_letters(channel, sent, timeout=120)
    for junk in sent:
        reason = reasons[junk.message_id]
        where = f"{junk.binding.queue} ({junk.label}): {reason!r}"
        assert junk.mentions in reason, where
        assert len(reason) <= 2000 and "x" * 100 not in reason, where


async def ask_raw(client: RabbitBroker, junk: Junk) -> Reply:
    route = topology.request_route(junk.binding.message)
    response = await client.request(
        junk.body,
        exchange=exchange(route.exchange, route.exchange_type),
        routing_key=route.routing_key,
        correlation_id=junk.message_id,
        content_type="application/json",
        timeout=30,
    )
    return Reply.model_validate_json(response.body)


async def test_every_malformed_request_gets_an_error_reply_naming_the_problem(client: RabbitBroker) -> None:
    for binding in REQUESTS:
        for junk in junk_for(binding):
            reply = await ask_raw(client, junk)
            where = f"{binding.queue} ({junk.label}): {reply!r}"[:500]
            assert not reply.ok and reply.error is not None, where
            assert reply.error.code == "invalid_request", where
            assert junk.mentions in reply.error.message, where
            assert "x" * 100 not in reply.error.message, where


def _unknown_id_requests() -> list[tuple[Message, bool]]:
    """Valid requests about ids nobody knows, and whether they change state (so must be refused)."""
    unknown, ods = uuid.uuid4(), "ZZ" + uuid.uuid4().hex[:6].upper()
    flu = [Programme.FLU]
    return [
        (sessions.GetSession(session_id=unknown), False),
        (sessions.CloseSchoolSession(session_id=unknown, closed_by="Nurse"), True),
        (
            sessions.RecordVaccination(
                child_id=unknown, session_id=unknown, programme=Programme.FLU, outcome="vaccinated", recorded_by="Nurse"
            ),
            True,
        ),
        (sessions.AddLocation(team_ods=ods, location_id="123456", kind="school", name="Nowhere"), True),
        (sessions.CreateSchoolSession(team_ods=ods, school_urn="123456", programmes=flu, dates=[today()]), True),
        (sessions.SetClinicDates(team_ods=ods, academic_year=2025, programmes=flu, dates=[]), True),
        (sessions.GetClinicSession(team_ods=ods, academic_year=2025, programmes=flu), False),
        (cohort.GetActivityLog(child_id=unknown), False),
        (cohort.InviteChildToClinic(child_id=unknown, team_ods=ods, requested_by="Nurse"), True),
        (cohort.AddWalkIn(child_id=unknown, team_ods=ods, requested_by="Nurse"), True),
        (cohort.ChangeChildSchool(child_id=unknown, school_urn="999999", changed_by="Nurse"), True),
        (cohort.SetChildFlags(child_id=unknown, archived=True, changed_by="Nurse"), True),
        (cohort.PreviewClinicInvitations(session_id=unknown), False),
        (cohort.CommitCohortImport(import_id=unknown, team_ods=ods), True),
        (cohort.ListImportReviews(import_id=unknown), False),
        (
            cohort.DecideImportReview(import_id=unknown, row_number=2, decision="use_upload", decided_by="Nurse"),
            True,
        ),
        (cohort.ListClinicChildren(team_ods=ods, programme=Programme.FLU, academic_year=2025), False),
        (cohort.FindChildren(team_ods=ods, nhs_number="9434765919"), False),
        (consent.SendConsentRequest(child_id=unknown, team_ods=ods, programmes=flu, requested_by="Nurse"), True),
        (
            consent.RecordConsent(
                child_id=unknown,
                team_ods=ods,
                programme=Programme.FLU,
                response="given",
                route="phone",
                recorded_by="Nurse",
            ),
            True,
        ),
        (consent.GetConsentStatus(child_id=unknown), False),
        (notify.GetInvitationStatus(child_id=unknown), False),
        *_unknown_online_consent_requests(unknown, ods),
    ]


def _unknown_online_consent_requests(unknown: uuid.UUID, ods: str) -> list[tuple[Message, bool]]:
    """Issue 20's requests about links, responses and teams nobody knows."""
    token = "c1.bm90LWEtbGluaw.forged"
    form = consent.ConsentFormAnswers(
        child_first_name="Ada", child_last_name="Lovelace", child_date_of_birth=date(2015, 1, 1),
        education_setting="home_educated", parent_name="Pat Parent", relationship="mum", email="p@example.com",
        answers=[consent.ProgrammeAnswer(programme=Programme.FLU, response="given", vaccine_methods=["nasal"])],
    )  # fmt: skip
    return [
        (sessions.ListTeamSchools(team_ods=ods), False),
        (consent.OpenConsentForm(token=token), False),
        (consent.SubmitConsentForm(token=token, response_id=unknown, form=form), True),
        (consent.ListConsentResponses(team_ods=ods), False),
        (consent.GetConsentResponse(response_id=unknown), False),
        (consent.MatchConsentResponse(response_id=unknown, child_id=unknown, matched_by="Nurse"), True),
        (consent.CreateChildFromConsentResponse(response_id=unknown, created_by="Nurse"), True),
        (consent.ArchiveConsentResponse(response_id=unknown, notes="a test", archived_by="Nurse"), True),
        (consent.GetTeamConsentLink(team_ods=ods), False),
    ]


async def test_requests_about_unknown_ids_are_answered_clearly(client: RabbitBroker) -> None:
    no_ids = {cohort.ImportCohortChunk, sessions.UpsertTeam}  # they create; ImportCohortChunk is covered below
    assert {type(m) for m, _ in _unknown_id_requests()} == {b.message for b in REQUESTS} - no_ids
    for message, changes_state in _unknown_id_requests():
        reply = await rpc.request(client, message, timeout=30)  # a timeout here fails the test
        name = type(message).__name__
        if reply.ok:
            assert not changes_state, f"{name} about unknown ids was accepted: {reply.data}"
            continue
        assert reply.error is not None, name
        assert reply.error.code not in ("internal_error", "invalid_request"), (name, reply.error)
        assert 10 <= len(reply.error.message) <= 500, (name, reply.error)


async def test_an_import_with_one_bad_row_imports_nothing(client: RabbitBroker) -> None:
    ods = new_team()
    await create_team(client, ods)
    n = seed()
    good = [child(n, "999999"), child(n + 1, "888888")]
    bad = child(n + 2, "999999")
    bad.nhs = bad.nhs[:9] + str((int(bad.nhs[9]) + 1) % 10)  # wrong check digit
    errors, reply = await import_rows(client, ods, HEADER, [good[0].cells(), bad.cells(), good[1].cells()])
    assert [(e["row"], e["column"]) for e in errors] == [(3, "CHILD_NHS_NUMBER")]
    assert not reply.ok and reply.error.code == "invalid_file"
    assert reply.error.details and reply.error.details[0]["row"] == 3
    for row in good:
        found = await refusal_or_empty(client, ods, row.nhs)
        assert found == [], f"a child of a refused import was imported: {found}"


async def refusal_or_empty(client: RabbitBroker, ods: str, nhs: str) -> list[Any]:
    reply = await rpc.request(client, cohort.FindChildren(team_ods=ods, nhs_number=nhs), timeout=30)
    assert reply.ok, reply.error
    return list((reply.data or {}).get("children", []))


async def test_after_all_the_bad_input_every_service_is_ready_and_still_works(
    client: RabbitBroker, stack: dict[str, ServiceProcess], channel: AbstractChannel
) -> None:
    # One more round of junk at every queue first, so this holds whatever order the tests run in.
    sent = [junk for binding in ASYNC for junk in junk_for(binding)[:2]]
    for junk in sent:
        await publish_raw(channel, junk)
    await collect_dead_letters(channel, sent, timeout=120)
    async with httpx.AsyncClient(timeout=5) as http:
        for process in stack.values():
            assert process.alive, f"{process.service} exited"
            ready = await http.get(f"{process.base_url}/health/ready")
            assert ready.status_code == 200, (process.service, ready.text)
    # A whole flow across all four services: sessions → cohort → notify → provider → cohort.
    ods = new_team()
    await create_team(client, ods)
    await clinic_on(client, ods, today() + timedelta(days=7))
    row = child(seed(), "999999")
    errors, reply = await import_rows(client, ods, HEADER, [row.cells()])
    assert not errors and reply.ok, (errors, reply.error)
    await wait_for_activity(client, await child_id(client, ods, row), "invitation_scheduled", "notification_sent")
    code, _ = await refusal(client, cohort.GetActivityLog(child_id=uuid.uuid4()))
    assert code == "not_found"


# A command about a child that notify's local copy does not hold yet is retried (with back-off, up to
# the delivery limit, then dead-lettered): cohort's ChildrenUpserted may simply not have arrived.
WAITS_FOR_LOCAL_COPY = frozenset({"notify.send_parent_message"})


def _unknown_and_huge(binding: topology.Binding) -> bytes:
    """A valid message whose ids nobody knows and whose free-text fields are 100,000 characters long."""
    schema = binding.message.model_json_schema()

    def fill(value: Any, sub: dict[str, Any]) -> Any:
        sub = _plain(sub, schema)
        if sub.get("format") == "uuid":
            return str(uuid.uuid4())
        if sub.get("type") == "string" and not ({"format", "pattern", "maxLength", "enum"} & set(sub)):
            return "x" * 100_000
        if isinstance(value, dict):
            return {k: fill(v, sub.get("properties", {}).get(k, {})) for k, v in value.items()}
        if isinstance(value, list) and "items" in sub:
            return [fill(v, sub["items"]) for v in value]
        return value

    body = fill(valid_body(binding.message), schema)
    body["type"] = binding.message.__name__
    return json.dumps(body).encode()


def _plain(sub: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in sub:
        return _plain(root["$defs"][sub["$ref"].rsplit("/", 1)[-1]], root)
    options = [o for o in sub.get("anyOf", []) if o.get("type") != "null"]
    return _plain(options[0], root) if options else sub


async def _outcomes(stack: dict[str, ServiceProcess]) -> dict[tuple[str, str], float]:
    """(queue, outcome) → count, from every service's /metrics; dead-lettered counts as "dead_lettered"."""
    found: dict[tuple[str, str], float] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        for process in stack.values():
            for line in (await http.get(f"{process.base_url}/metrics")).text.splitlines():
                if line.startswith(("clinics_messages_handled_total{", "clinics_dead_lettered_total{")):
                    labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
                    outcome = labels.get("outcome", '"dead_lettered"').strip('"')
                    key = (labels["queue"].strip('"'), outcome)
                    found[key] = found.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


async def test_valid_messages_about_unknown_ids_with_huge_text_are_handled_or_dead_lettered_not_retried(
    channel: AbstractChannel, stack: dict[str, ServiceProcess]
) -> None:
    before = await _outcomes(stack)
    for binding in ASYNC:
        junk = Junk(binding, "unknown ids, huge text", _unknown_and_huge(binding), "", str(uuid.uuid4()))
        await publish_raw(channel, junk)

    def settled(now: dict[tuple[str, str], float], queue: str) -> bool:
        outcomes = ("ok", "dead_lettered", "retry") if queue in WAITS_FOR_LOCAL_COPY else ("ok", "dead_lettered")
        done = sum(now.get((queue, o), 0) - before.get((queue, o), 0) for o in outcomes)
        return done >= 1

    async def all_settled() -> bool:
        now = await _outcomes(stack)
        return all(settled(now, b.queue) for b in ASYNC)

    try:
        await eventually(all_settled, timeout=60, interval=0.5, what="every message handled or dead-lettered")
    finally:
        now = await _outcomes(stack)
        retried = {
            b.queue: now.get((b.queue, "retry"), 0) - before.get((b.queue, "retry"), 0)
            for b in ASYNC
            if b.queue not in WAITS_FOR_LOCAL_COPY
        }
        unsettled = [b.queue for b in ASYNC if not settled(now, b.queue)]
        assert not unsettled and not any(retried.values()), f"unsettled {unsettled}; retried {retried}"
