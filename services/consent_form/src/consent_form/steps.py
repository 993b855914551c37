"""The journey: which questions a parent is asked, in order, given what they have answered so far.

Mavis's wizard (`ConsentForm#wizard_steps`) adapted to clinics: the child, their education setting, the
parent, contact details, an answer per programme; then on a refusal the reason (with notes where Mavis
asks for them) and, for some reasons, an offer of a call; on a yes the address and the health questions.
"""

from __future__ import annotations

from typing import Any, Final

from contracts.common import Programme
from contracts.consent import RefusalReason
from contracts.consent_form import ConsentFormView

CHECK: Final = "check-answers"
CANNOT_CONSENT: Final = "cannot-consent"
FIRST_STEPS: Final = ("name", "date-of-birth", "school", "parent")

# Mavis's Refusable::REASON_FOR_REFUSAL_REQUIRES_NOTES: these reasons ask for details.
NOTES_REQUIRED: Final = frozenset(
    {
        RefusalReason.ALREADY_VACCINATED,
        RefusalReason.MEDICAL_REASONS,
        RefusalReason.OTHER,
        RefusalReason.WILL_BE_VACCINATED_ELSEWHERE,
    }
)
# Mavis's ConsentForm::FOLLOW_UP_REQUIRED_REASONS: these refusals are offered a call about alternatives.
FOLLOW_UP_OFFERED: Final = frozenset(
    {
        RefusalReason.CONTAINS_GELATINE,
        RefusalReason.MEDICAL_REASONS,
        RefusalReason.PERSONAL_CHOICE,
        RefusalReason.OTHER,
    }
)
GIVEN_CHOICES: Final = frozenset({"yes", "nasal", "injection"})


def response_step(programme: Programme) -> str:
    return f"response-{programme.value}"


def health_step(programme: Programme) -> str:
    return f"health-{programme.value}"


def cannot_consent(answers: dict[str, Any]) -> bool:
    """Someone other than a parent or guardian without parental responsibility: Mavis's dead end."""
    return answers.get("relationship") == "other" and answers.get("responsibility") == "no"


def given_programmes(view: ConsentFormView, answers: dict[str, Any]) -> list[Programme]:
    return [p.programme for p in view.programmes if answers.get(response_step(p.programme)) in GIVEN_CHOICES]


def refused_programmes(view: ConsentFormView, answers: dict[str, Any]) -> list[Programme]:
    return [p.programme for p in view.programmes if answers.get(response_step(p.programme)) == "no"]


def steps_for(view: ConsentFormView, answers: dict[str, Any]) -> list[str]:
    """Every question page this parent is asked, in order (check answers comes after the last)."""
    steps = list(FIRST_STEPS)
    if cannot_consent(answers):
        return steps
    steps.append("contact")
    steps.extend(response_step(p.programme) for p in view.programmes)
    if refused_programmes(view, answers):
        steps.append("reason")
        reason = answers.get("refusal_reason")
        if reason in NOTES_REQUIRED:
            steps.append("reason-notes")
        if reason in FOLLOW_UP_OFFERED:
            steps.append("follow-up")
    given = given_programmes(view, answers)
    if given:
        steps.append("address")
        steps.extend(health_step(p.programme) for p in view.programmes if p.programme in given and p.health_questions)
    return steps


def next_step(view: ConsentFormView, answers: dict[str, Any]) -> str:
    """The first question not yet answered, or check answers once all are."""
    done = set(answers.get("_done", ()))
    if cannot_consent(answers) and "parent" in done:
        return CANNOT_CONSENT
    for step in steps_for(view, answers):
        if step not in done:
            return step
    return CHECK


def reachable(view: ConsentFormView, answers: dict[str, Any], step: str) -> bool:
    """A page may be shown if it is asked of this parent and nothing before it is unanswered."""
    steps = steps_for(view, answers)
    if step == CHECK:
        return next_step(view, answers) == CHECK
    if step == CANNOT_CONSENT:
        return next_step(view, answers) == CANNOT_CONSENT
    if step not in steps:
        return False
    following = next_step(view, answers)
    return following in (CHECK, CANNOT_CONSENT) or steps.index(step) <= steps.index(following)


def mark_done(answers: dict[str, Any], step: str) -> None:
    done = list(answers.get("_done", ()))
    if step not in done:
        done.append(step)
    answers["_done"] = done
