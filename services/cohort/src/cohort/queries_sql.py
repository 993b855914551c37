"""The SQL of the clinic children list: filters by the statuses a membership row carries, a count, a page.

A membership row carries its child's names and status (kept by triggers, migration 0004), so a list is
read from one index in list order: the count from it alone, a page on from where it starts. The status
words are the consent copy's (`contracts.consent.ConsentStatus`), rendered, never spelled here.
"""

from __future__ import annotations

from cohort.sql_text import literal
from contracts.cohort import ClinicChildrenFilter
from contracts.consent import ConsentStatus

_NEEDS_CONSENT = ", ".join(
    literal(s) for s in (ConsentStatus.NO_RESPONSE, ConsentStatus.FOLLOW_UP_REQUESTED, ConsentStatus.CONFLICTING)
)
LISTED = "m.team_ods = :team AND m.academic_year = :year AND m.programme = :programme"
FILTERS: dict[str, str] = {
    ClinicChildrenFilter.ALL: "true",
    ClinicChildrenFilter.INVITED: "m.invited",
    ClinicChildrenFilter.NOT_INVITED: "NOT m.invited",
    # No answer yet, or answers staff must act on: parents who disagree, or a refusal asking for a call.
    ClinicChildrenFilter.NEEDS_CONSENT: f"m.consent_status IN ({_NEEDS_CONSENT}) AND NOT m.vaccinated",
    ClinicChildrenFilter.CONSENT_GIVEN: f"m.consent_status = {literal(ConsentStatus.GIVEN)}",
    ClinicChildrenFilter.CONSENT_REFUSED: f"m.consent_status = {literal(ConsentStatus.REFUSED)}",
    ClinicChildrenFilter.VACCINATED: "m.vaccinated",
}
AFTER = "(m.last_name, m.first_name, m.child_id) > (:after_last, :after_first, :after_id)"


def count(where: str) -> str:
    return f"SELECT count(*) FROM clinic_memberships m WHERE {where}"


def page(where: str) -> str:
    """A page found in the index alone (skipping, for a numbered page, costs no child rows); only its own
    children are then read."""
    return f"""
        SELECT c.*, m.last_name AS sort_last, m.first_name AS sort_first, m.joined_on, m.reason, m.invited,
               m.consent_status, m.vaccinated
        FROM (SELECT m.* FROM clinic_memberships m WHERE {where}
              ORDER BY m.last_name, m.first_name, m.child_id LIMIT :limit OFFSET :offset) m
        JOIN children c ON c.id = m.child_id
        ORDER BY m.last_name, m.first_name, m.child_id"""
