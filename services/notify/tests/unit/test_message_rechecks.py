"""The rule each kind of composed message is re-checked by as it is claimed for the provider (no IO)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notify.domain.eligibility import Decision, Outcomes, check_consent_request, check_message
from notify.domain.notifications import TRANSITIONS, Notification, NotificationStatus, delivery_transition
from notify.domain.recipients import Child, Parent

pytestmark = pytest.mark.unit

MUM = Parent("p1", email="mum@example.com", phone="07700 900123")
NOBODY = Parent("p3")
REQUEST = "consent_clinic_request"
INVITATION = "clinic_initial_invitation"
CONFIRMATION = "consent_confirmation_given"


def kid(**kw: object) -> Child:
    values: dict[str, object] = {"child_id": "c1", "team_ods": "RYG", "first_name": "A", "last_name": "B"}
    values.setdefault("parents", (MUM,))
    return Child(**(values | kw))  # type: ignore[arg-type]


def message(kind: str = REQUEST, programmes: tuple[str, ...] = ("flu",), year: int | None = 2025) -> Notification:
    return Notification(
        id="n1", reference="n1", child_id="c1", team_ods="RYG", kind=kind, channel="email", to="mum@example.com",
        template_id="t", personalisation={}, next_attempt_at=datetime(2026, 1, 12, tzinfo=UTC),
        programmes=programmes, academic_year=year,
    )  # fmt: skip


def consent(**statuses: str) -> Outcomes:
    """Consent statuses for 2025 by programme, as the copy holds them."""
    refused = frozenset((p, 2025) for p, s in statuses.items() if s == "refused")
    return Outcomes(refused=refused, consent={(p, 2025): s for p, s in statuses.items()})


def vaccinated(*programmes: tuple[str, int]) -> Outcomes:
    return Outcomes(vaccinated=frozenset(programmes))


def recheck(
    note: Notification, child: Child | None = None, outcomes: Outcomes | None = None, *, left: bool = False
) -> Decision:
    return check_message(note, child=child or kid(), outcomes=outcomes or Outcomes(), left_cohort=left)


class TestConsentRequest:
    def test_goes_while_no_response_is_recorded(self) -> None:
        assert recheck(message()) == Decision(programmes=("flu",))
        assert recheck(message(), outcomes=consent(flu="no_response")).programmes == ("flu",)

    @pytest.mark.parametrize(
        ("status", "reason"),
        [
            ("given", "consent already given"),
            ("refused", "consent refused"),  # also where a withdrawal leaves it: the parent has answered
            ("conflicting", "consent conflicting"),
        ],
    )
    def test_any_recorded_response_cancels_it(self, status: str, reason: str) -> None:
        assert recheck(message(), outcomes=consent(flu=status)).cancel_reason == reason

    def test_a_response_of_another_year_or_programme_does_not_count(self) -> None:
        last_year = Outcomes(consent={("flu", 2024): "given"})
        assert recheck(message(), outcomes=last_year).cancel_reason is None
        assert recheck(message(), outcomes=consent(hpv="given")).cancel_reason is None

    def test_vaccinated_or_already_had_it_cancels_it(self) -> None:
        assert recheck(message(), outcomes=vaccinated(("flu", 2025))).cancel_reason == "vaccinated"
        assert recheck(message(programmes=("hpv",)), outcomes=vaccinated(("hpv", 2023))).cancel_reason == "vaccinated"
        assert recheck(message(), outcomes=vaccinated(("flu", 2024))).cancel_reason is None  # a seasonal one

    def test_answered_programmes_drop_out_and_all_answered_names_each_reason(self) -> None:
        both = message(programmes=("flu", "hpv"))
        assert recheck(both, outcomes=consent(flu="given")).programmes == ("hpv",)
        settled = Outcomes(vaccinated=frozenset({("hpv", 2025)}), consent={("flu", 2025): "given"})
        assert recheck(both, outcomes=settled).cancel_reason == "consent already given, vaccinated"

    def test_leaving_the_clinic_cohort_cancels_it(self) -> None:
        assert recheck(message(), left=True).cancel_reason == "left the clinic cohort"

    @pytest.mark.parametrize("flag", ["deceased", "restricted", "invalidated", "archived"])
    def test_do_not_contact_flags_cancel_it(self, flag: str) -> None:
        assert recheck(message(), kid(**{flag: True})).cancel_reason == flag

    def test_without_its_programmes_and_year_only_the_child_is_judged(self) -> None:
        old = message(programmes=(), year=None)
        assert recheck(old, outcomes=consent(flu="given")).cancel_reason is None
        assert recheck(old, kid(archived=True)).cancel_reason == "archived"
        assert check_consent_request(
            child=kid(), programmes=("flu",), year=None, outcomes=consent(flu="given"), left_cohort=False
        ) == Decision(programmes=("flu",))


class TestInvitation:
    def test_is_judged_as_when_it_was_expanded(self) -> None:
        assert recheck(message(INVITATION)) == Decision(programmes=("flu",))
        assert recheck(message(INVITATION), outcomes=vaccinated(("flu", 2025))).cancel_reason == "vaccinated"
        assert recheck(message(INVITATION), outcomes=consent(flu="refused")).cancel_reason == "consent refused"
        assert recheck(message(INVITATION), left=True).cancel_reason == "left the clinic cohort"
        assert recheck(message(INVITATION), kid(parents=(NOBODY,))).cancel_reason == "no contactable parents"

    def test_consent_given_does_not_stop_an_invitation(self) -> None:
        assert recheck(message(INVITATION), outcomes=consent(flu="given")).cancel_reason is None

    def test_settled_programmes_drop_out(self) -> None:
        note = message(INVITATION, programmes=("flu", "hpv"))
        assert recheck(note, outcomes=vaccinated(("flu", 2025))).programmes == ("hpv",)

    def test_without_its_programmes_only_the_child_and_cohort_are_judged(self) -> None:
        old = message(INVITATION, programmes=())
        assert recheck(old, outcomes=vaccinated(("flu", 2025))).cancel_reason is None
        assert recheck(old, kid(restricted=True)).cancel_reason == "restricted"
        assert recheck(old, left=True).cancel_reason == "left the clinic cohort"


class TestConfirmation:
    @pytest.mark.parametrize("flag", ["deceased", "restricted", "invalidated"])
    def test_do_not_contact_flags_still_stop_it(self, flag: str) -> None:
        assert recheck(message(CONFIRMATION), kid(**{flag: True})).cancel_reason == flag

    def test_an_archived_child_or_a_response_does_not(self) -> None:
        assert recheck(message(CONFIRMATION), kid(archived=True)).cancel_reason is None
        assert recheck(message(CONFIRMATION), outcomes=consent(flu="given"), left=True).cancel_reason is None


def test_without_a_copy_of_the_child_nothing_is_judged() -> None:
    assert check_message(message(), child=None, outcomes=consent(flu="given"), left_cohort=True) == Decision(
        programmes=("flu",)
    )


class TestCancelledStatus:
    def test_only_a_message_the_provider_never_had_may_be_cancelled(self) -> None:
        assert NotificationStatus.CANCELLED in TRANSITIONS[NotificationStatus.PENDING]
        assert NotificationStatus.CANCELLED in TRANSITIONS[NotificationStatus.SENDING]  # after a lookup found nothing
        assert NotificationStatus.CANCELLED not in TRANSITIONS[NotificationStatus.SENT]

    def test_cancelled_is_terminal_and_a_late_receipt_changes_nothing(self) -> None:
        assert TRANSITIONS[NotificationStatus.CANCELLED] == frozenset()
        assert not delivery_transition(NotificationStatus.CANCELLED, NotificationStatus.DELIVERED)
