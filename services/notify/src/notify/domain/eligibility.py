"""Whether an invitation or a message may still go: settled programmes, cohort leavers and do-not-contact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from notify.domain.invitations import Invitation
from notify.domain.notifications import Notification
from notify.domain.recipients import Child, do_not_contact_reason, recipients
from notify.domain.templates import CONFIRMATION_KINDS, INVITATION_KINDS, MessageKind

FLU = "flu"
NO_RESPONSE = "no_response"


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What is settled for one child: programmes vaccinated, consent refused, and any consent status, by year."""

    vaccinated: frozenset[tuple[str, int]] = frozenset()
    refused: frozenset[tuple[str, int]] = frozenset()
    consent: Mapping[tuple[str, int], str] = field(default_factory=dict)  # given | refused | conflicting

    def done(self, programme: str, year: int) -> bool:
        # A seasonal flu vaccination counts for its own year only; the others last.
        if programme == FLU:
            return (programme, year) in self.vaccinated
        return any(p == programme for p, _ in self.vaccinated)

    def is_refused(self, programme: str, year: int) -> bool:
        return (programme, year) in self.refused

    def response(self, programme: str, year: int) -> str | None:
        """The consent status once any response is recorded, else None."""
        status = self.consent.get((programme, year))
        return None if status in (None, NO_RESPONSE) else status


@dataclass(frozen=True, slots=True)
class Decision:
    """Send for `programmes`, or cancel for `cancel_reason`."""

    programmes: tuple[str, ...] = ()
    cancel_reason: str | None = None


def check_invitation(
    *,
    child: Child,
    programmes: Sequence[str],
    year: int,
    outcomes: Outcomes,
    left_cohort: bool,
    at_send: bool,
) -> Decision:
    """Re-check an unsent invitation. Vaccinated or refused programmes are dropped from the message.

    `at_send` adds the checks that only hold at send time (contactable parents), since parents may
    still be added before then.
    """
    if reason := do_not_contact_reason(child):
        return Decision(cancel_reason=reason)
    if left_cohort:
        return Decision(cancel_reason="left the clinic cohort")
    open_programmes = tuple(p for p in programmes if not outcomes.done(p, year) and not outcomes.is_refused(p, year))
    if not open_programmes:
        vaccinated = all(outcomes.done(p, year) for p in programmes)
        return Decision(cancel_reason="vaccinated" if vaccinated else "consent refused")
    if at_send and not recipients(child.parents):
        return Decision(cancel_reason="no contactable parents")
    return Decision(programmes=open_programmes)


def judge(
    invitation: Invitation,
    child: Child,
    outcomes: Mapping[str, Outcomes],
    leavers: set[tuple[str, str, int]],
    *,
    at_send: bool,
) -> Decision:
    """check_invitation for one invitation, from the copies loaded for a batch of them."""
    return check_invitation(
        child=child,
        programmes=invitation.programmes,
        year=invitation.academic_year,
        outcomes=outcomes.get(invitation.child_id, Outcomes()),
        left_cohort=(invitation.child_id, invitation.team_ods, invitation.academic_year) in leavers,
        at_send=at_send,
    )


_ANSWERED = {"given": "consent already given", "refused": "consent refused", "conflicting": "consent conflicting"}


def _answered(programme: str, year: int, outcomes: Outcomes) -> str | None:
    if outcomes.done(programme, year):
        return "vaccinated"
    response = outcomes.response(programme, year)
    return None if response is None else _ANSWERED.get(response, f"consent {response}")


def check_consent_request(
    *, child: Child, programmes: Sequence[str], year: int | None, outcomes: Outcomes, left_cohort: bool
) -> Decision:
    """Re-check a consent request before it is sent: it goes only while it still asks something.

    A programme is answered once any response is recorded (given, refused or conflicting; a withdrawal
    arrives as refused or conflicting, so it counts too: the parent has answered) or the child is
    vaccinated for it. Answered programmes drop out; the request is cancelled when none is left.
    Without its programmes and year (a message older than their recording) only the child is judged.
    """
    if reason := do_not_contact_reason(child):
        return Decision(cancel_reason=reason)
    if left_cohort:
        return Decision(cancel_reason="left the clinic cohort")
    if year is None or not programmes:
        return Decision(programmes=tuple(programmes))
    answered = {p: _answered(p, year, outcomes) for p in programmes}
    open_programmes = tuple(p for p, reason in answered.items() if reason is None)
    if not open_programmes:
        return Decision(cancel_reason=", ".join(dict.fromkeys(r for r in answered.values() if r)))
    return Decision(programmes=open_programmes)


def check_message(
    notification: Notification, *, child: Child | None, outcomes: Outcomes, left_cohort: bool
) -> Decision:
    """Re-check a composed notification as it is claimed for the provider: one rule per message kind.

    Invitations: as when they were expanded (`check_invitation` at send time). Consent requests:
    `check_consent_request`. Confirmations answer what a parent just did, so only deceased, restricted
    and invalidated stop them (not archived). Without a copy of the child (never deleted, so never in
    practice) there is nothing to judge by.
    """
    programmes, year = notification.programmes, notification.academic_year
    if child is None:
        return Decision(programmes=programmes)
    if notification.kind in INVITATION_KINDS and programmes and year is not None:
        return check_invitation(
            child=child, programmes=programmes, year=year, outcomes=outcomes, left_cohort=left_cohort, at_send=True
        )
    if notification.kind in CONFIRMATION_KINDS:
        reason = do_not_contact_reason(child, archived_blocks=False)
        return Decision(programmes=programmes, cancel_reason=reason)
    # Consent requests, and invitations stored without their programmes, which then get the same checks.
    asked = programmes if notification.kind == MessageKind.CONSENT_CLINIC_REQUEST else ()
    return check_consent_request(child=child, programmes=asked, year=year, outcomes=outcomes, left_cohort=left_cohort)
