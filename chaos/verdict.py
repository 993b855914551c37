"""The common verdict of both fault suites: every expected send counted, the dead letters, readiness, the faults.

A run passes when nothing was lost or sent twice, every process is ready, the dead-letter queues hold only
the malformed messages sent on purpose, every promised fault kind was injected, the system went quiet and
neither the workload nor the injector failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos import checks
from chaos.accounting import Tally, tally
from chaos.faults import Injector
from chaos.plan import missing_fault_kinds, provider_fault_counts
from chaos.stack import Stack
from chaos.suite import Outcome, say
from chaos.workload import Child, recipients
from notify.domain.default_templates import default_catalogue

# What both suites' summaries show first, in this order.
COUNTS = ("expected", "delivered", "lost", "duplicates", "extra_sends", "unexpected", "misaddressed")


async def verdict(
    stack: Stack, children: Sequence[Child], malformed: list[checks.Malformed], injector: Injector, outcome: Outcome
) -> dict[str, Any]:
    kinds = {t.id: str(t.kind) for t in default_catalogue()}
    expected = [k for c in children for k in c.expected()]
    records = await stack.stub.sent()
    counted: Tally = tally(expected=expected, recipients=recipients(children), records=records, kinds=kinds)
    stats = await stack.stub.stats()
    provider = provider_fault_counts(stats.get("totals", {}))
    ready = await stack.readiness()
    dead_letters = await _dead_letters(stack, malformed)
    log = injector.log
    missing = missing_fault_kinds(
        kills=log.kills, targets=list(stack.processes), restarts=log.restarts, provider=provider
    )
    database = checks.Database(stack.database_url)
    whole = all(ready.values()) and not dead_letters["problems"] and not missing
    return {
        "ok": counted.ok and whole and outcome.quiet and not outcome.errors,
        **counted.to_json(),
        "children": len(children),
        **_faults(injector),
        "provider_faults": provider,
        "provider_requests": stats.get("totals", {}),
        "callbacks": {k: stats.get(k) for k in ("callbacks_answered", "callbacks_abandoned")},
        "services_ready": ready,
        "dead_letters": dead_letters,
        "missing_fault_kinds": missing,
        "quiet": outcome.quiet,
        "errors": outcome.errors,
        "client_retries": outcome.client_retries,
        "notify_statuses": await database.notify_statuses(),
        "lost_by_notify_status": await explain_losses(database, children, counted),
        "log_dir": str(stack.log_dir),
    }


def _faults(injector: Injector) -> dict[str, Any]:
    log = injector.log
    return {
        "kills": log.total_kills,
        "kills_by_process": dict(log.kills),
        "mid_commit_kills": log.mid_commit_kills,
        "crashes": dict(log.crashes),
        "restarts": {"rabbitmq": log.restarts["rabbitmq"], "postgres": log.restarts["postgres"]},
        "recovery_seconds_max": round(max(log.recovery_seconds, default=0.0), 1),
    }


async def _dead_letters(stack: Stack, malformed: list[checks.Malformed]) -> dict[str, Any]:
    found = await checks.dead_letters(stack.amqp_url)
    wanted = checks.expected_dead_letters(malformed)
    return {
        "expected": {q: sorted(ids) for q, ids in wanted.items()},
        "found": {q: len(ms) for q, ms in found.items()},
        "problems": checks.judge_dead_letters(found, wanted),
    }


async def explain_losses(database: checks.Database, children: Sequence[Child], counted: Tally) -> dict[str, int]:
    if not counted.lost_keys:
        return {}
    by_key = {c.key: c for c in children}
    addresses = [
        by_key[child].email if channel == "email" else by_key[child].phone for child, _, channel, _ in counted.lost_keys
    ]
    statuses = await database.notification_statuses_for(addresses)
    out: dict[str, int] = {}
    for status in statuses.values():
        out[status] = out.get(status, 0) + 1
    return out


def print_counts(results: dict[str, Any], *more: str) -> None:
    say("results")
    for key in (*COUNTS, *more):
        print(f"  {key:<22}{results[key]:>8}")
    print(f"  {'kills':<22}{results['kills']:>8}  {results['kills_by_process']}")


def print_verdict(results: dict[str, Any]) -> None:
    if results["lost_by_notify_status"]:
        print(f"  lost, by notify's status: {results['lost_by_notify_status']}")
    print(f"  {'verdict':<22}{'PASS' if results['ok'] else 'FAIL'}")
