"""Notify's domain rules without IO: eligibility, recipients, timing, retries, statuses and the rate bucket."""

from __future__ import annotations

import ast
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

import notify.domain
from notify.domain.eligibility import Outcomes, check_invitation
from notify.domain.invitations import Invitation, InvitationStatus, due_at, keep_new
from notify.domain.notifications import InvalidTransition, NotificationStatus, delivery_transition
from notify.domain.recipients import Child, Parent, Team, recipients
from notify.domain.timing import (
    ClinicSession,
    SendingWindow,
    bucket_shape,
    first_clinic_date,
    next_utc_midnight,
    retry_at,
)

pytestmark = pytest.mark.unit

MUM = Parent("p1", email="mum@example.com", phone="07700 900123")
DAD = Parent("p2", email="dad@example.com")
NOBODY = Parent("p3")
TEAM = Team(ods_code="RYG", name="CWPT", email="t@example.com", phone="0247")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def kid(**kw: object) -> Child:
    values: dict[str, object] = {"child_id": "c1", "team_ods": "RYG", "first_name": "A", "last_name": "B"}
    values.setdefault("parents", (MUM, DAD))
    return Child(**(values | kw))  # type: ignore[arg-type]


def check(child: Child, programmes: tuple[str, ...] = ("flu",), outcomes: Outcomes = Outcomes(), **kw: bool):
    return check_invitation(
        child=child, programmes=programmes, year=2025, outcomes=outcomes, left_cohort=kw.get("left", False),
        at_send=kw.get("at_send", True),
    )  # fmt: skip


class TestRecipients:
    def test_email_and_sms_for_each_contactable_parent(self) -> None:
        found = recipients([MUM, DAD, NOBODY])
        assert [(r.parent_id, r.channel) for r in found] == [("p1", "email"), ("p1", "sms"), ("p2", "email")]

    def test_shared_address_or_number_gets_one_message(self) -> None:
        twin = Parent("p4", email=" MUM@example.com", phone="07700900123")
        assert len(recipients([MUM, twin])) == 2

    def test_sms_can_be_left_out_and_one_parent_chosen(self) -> None:
        assert [r.channel for r in recipients([MUM, DAD], sms=False)] == ["email", "email"]
        assert [r.parent_id for r in recipients([MUM, DAD], only_parent="p2")] == ["p2"]


class TestEligibility:
    def test_eligible_child_is_sent_every_open_programme(self) -> None:
        assert check(kid(), ("flu", "hpv")).programmes == ("flu", "hpv")

    @pytest.mark.parametrize("flag", ["deceased", "restricted", "invalidated", "archived"])
    def test_do_not_contact_flags_cancel(self, flag: str) -> None:
        assert check(kid(**{flag: True})).cancel_reason == flag

    def test_left_the_cohort_cancels(self) -> None:
        assert check(kid(), left=True).cancel_reason == "left the clinic cohort"

    def test_vaccinated_for_every_programme_cancels(self) -> None:
        outcomes = Outcomes(vaccinated=frozenset({("flu", 2025), ("hpv", 2023)}))
        assert check(kid(), ("flu", "hpv"), outcomes).cancel_reason == "vaccinated"

    def test_refused_for_every_open_programme_cancels_as_refused(self) -> None:
        outcomes = Outcomes(vaccinated=frozenset({("flu", 2025)}), refused=frozenset({("hpv", 2025)}))
        assert check(kid(), ("flu", "hpv"), outcomes).cancel_reason == "consent refused"

    def test_settled_programmes_are_dropped(self) -> None:
        outcomes = Outcomes(vaccinated=frozenset({("hpv", 2025)}), refused=frozenset({("mmr", 2025)}))
        assert check(kid(), ("flu", "hpv", "mmr"), outcomes).programmes == ("flu",)

    def test_last_years_flu_vaccination_does_not_count(self) -> None:
        assert check(kid(), ("flu",), Outcomes(vaccinated=frozenset({("flu", 2024)}))).programmes == ("flu",)

    def test_no_contactable_parents_cancels_only_at_send_time(self) -> None:
        lonely = kid(parents=(NOBODY,))
        assert check(lonely, at_send=False).programmes == ("flu",)
        assert check(lonely).cancel_reason == "no contactable parents"


class TestTiming:
    def test_first_date_after_today_of_a_session_offering_the_programme(self) -> None:
        sessions = [
            ClinicSession(frozenset({"hpv"}), (date(2026, 1, 14),)),
            ClinicSession(frozenset({"flu", "mmr"}), (date(2026, 1, 12), date(2026, 2, 1), date(2026, 1, 20))),
        ]
        assert first_clinic_date(sessions, ["flu"], date(2026, 1, 12)) == date(2026, 1, 20)
        assert first_clinic_date(sessions, ["hpv", "mmr"], date(2026, 1, 12)) == date(2026, 1, 14)
        assert first_clinic_date(sessions, ["td_ipv"], date(2026, 1, 12)) is None

    def test_retiming_does_not_push_a_staff_invitation_another_day(self) -> None:
        requested = utc(2026, 1, 12, 10, 0)
        args = {"requested_at": requested, "first_date": date(2026, 1, 20), "team": TEAM, "trigger": "staff"}
        assert due_at(now=requested, **args) == utc(2026, 1, 13, 9, 0)  # type: ignore[arg-type]
        assert due_at(now=utc(2026, 1, 12, 18, 0), **args) == utc(2026, 1, 13, 9, 0)  # type: ignore[arg-type]
        assert due_at(now=utc(2026, 1, 14, 11, 0), **args) == utc(2026, 1, 14, 11, 0)  # type: ignore[arg-type]

    def test_automatic_across_the_autumn_clock_change(self) -> None:
        # 21 days before 16 November is 26 October, the day after the clocks go back: 09:00 GMT.
        due = due_at(
            now=utc(2026, 10, 1, 12), requested_at=utc(2026, 10, 1, 12), first_date=date(2026, 11, 16),
            team=TEAM, trigger="automatic",
        )  # fmt: skip
        assert due == utc(2026, 10, 26, 9, 0)

    def test_no_upcoming_date_waits(self) -> None:
        now = utc(2026, 1, 12, 10)
        assert due_at(now=now, requested_at=now, first_date=date(2026, 1, 12), team=TEAM, trigger="automatic") is None
        assert due_at(now=now, requested_at=now, first_date=None, team=TEAM, trigger="automatic") is None

    def test_team_window_applies(self) -> None:
        team = Team("RT5", "LPT", "e@x.org", "1", window=SendingWindow(time(16, 0), time(18, 0)))
        now = utc(2026, 1, 12, 10)
        assert due_at(now=now, requested_at=now, first_date=date(2026, 1, 20), team=team, trigger="automatic") == utc(
            2026, 1, 12, 16, 0
        )

    def test_invitation_schedule_moves_between_waiting_and_scheduled_only_while_unsent(self) -> None:
        invitation = Invitation("i", "c", "RYG", 2025, ("flu",), "initial", "automatic", "x", utc(2026, 1, 1))
        assert invitation.schedule(utc(2026, 2, 1)) and invitation.status is InvitationStatus.SCHEDULED
        assert not invitation.schedule(utc(2026, 2, 1))
        assert invitation.schedule(None) and invitation.status is InvitationStatus.WAITING
        invitation.status = InvitationStatus.SENT
        with pytest.raises(InvalidTransition):
            invitation.schedule(None)


class TestKeepNew:
    @staticmethod
    def drafts(*kinds: str) -> list[Invitation]:
        at = utc(2026, 1, 12)
        return [Invitation(f"i{n}", "c", "RYG", 2025, ("flu", "hpv"), k, "staff", "x", at) for n, k in enumerate(kinds)]

    def test_a_repeat_keeps_only_programmes_with_nothing_unsent(self) -> None:
        [kept] = keep_new(self.drafts("subsequent"), {}, {("c", "RYG", 2025): {"flu"}})
        assert kept.programmes == ("hpv",)

    def test_a_repeat_after_a_draft_of_the_same_batch_is_not_made(self) -> None:
        kept = keep_new(self.drafts("initial", "subsequent", "subsequent"), {"i0": {"flu", "hpv"}}, {})
        assert [d.id for d in kept] == ["i0"]


class TestStatuses:
    def test_delivery_status_moves_forward_and_repeats_are_no_ops(self) -> None:
        assert delivery_transition(NotificationStatus.SENT, NotificationStatus.DELIVERED)
        assert delivery_transition(NotificationStatus.SENDING, NotificationStatus.PERMANENT_FAILURE)
        assert not delivery_transition(NotificationStatus.DELIVERED, NotificationStatus.DELIVERED)
        assert not delivery_transition(NotificationStatus.DELIVERED, NotificationStatus.TEMPORARY_FAILURE)

    def test_only_final_statuses_are_reported(self) -> None:
        with pytest.raises(InvalidTransition):
            delivery_transition(NotificationStatus.SENT, NotificationStatus.SENDING)


class TestRetries:
    def test_backoff_grows_with_jitter_up_to_the_cap(self) -> None:
        now, rng = utc(2026, 1, 1), random.Random(1)
        delays = [(retry_at(now, attempts=n, base=5, cap=300, rng=rng) - now).total_seconds() for n in range(1, 10)]
        for n, delay in enumerate(delays, start=1):
            step = min(300, 5 * 2 ** (n - 1))
            assert step / 2 <= delay <= step

    def test_retry_after_is_a_floor(self) -> None:
        now = utc(2026, 1, 1)
        assert retry_at(now, attempts=1, base=5, cap=300, floor=60) - now >= timedelta(seconds=60)

    def test_daily_spill_goes_to_next_utc_midnight(self) -> None:
        assert next_utc_midnight(utc(2026, 6, 30, 23, 59)) == utc(2026, 7, 1)


class TestRateBucket:
    @pytest.mark.parametrize(
        ("limit", "window", "burst", "rate"),
        [(3000, 60, 50, 45), (3000, 60, 50, 1000), (120, 60, 50, 45), (20, 2, 4, 1000)],
    )
    def test_no_window_can_exceed_the_limit(self, limit: int, window: float, burst: int, rate: float) -> None:
        shape = bucket_shape(limit=limit, window=window, burst=burst, send_rate=rate)
        # Calls reach the provider up to a second apart from their tokens: the window is a second longer.
        assert shape.capacity + (window + 1.0) * shape.refill_per_second <= limit
        assert shape.refill_per_second <= rate

    def test_notify_default_limit_is_used_to_at_least_98_percent(self) -> None:
        shape = bucket_shape(limit=3000, window=60, burst=50, send_rate=1000)
        assert shape.capacity == 50
        assert 60 * shape.refill_per_second + shape.capacity >= 0.98 * 3000

    def test_default_send_rate_is_45_per_second(self) -> None:
        assert bucket_shape(limit=3000, window=60, burst=50, send_rate=45).refill_per_second == 45


def test_the_domain_makes_no_ids_and_reads_no_clock() -> None:
    """Ids and the current time are passed into the domain, so its rules can be run on any case."""
    made = []
    for path in sorted(Path(notify.domain.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in {"uuid4", "uuid1", "now", "today", "utcnow"}:
                    made.append(f"{path.name}:{node.lineno} {name}()")
    assert made == []
