"""Test data: NHS numbers, school URNs and cohort CSV rows, built from the contracts' own rules."""

from __future__ import annotations

from datetime import date, time

from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL, Programme
from contracts.nhs_number import with_check_digit
from contracts.sessions import TeamSettings

__all__ = [
    "A_SCHOOL", "HEADER", "URN_HOME_EDUCATED", "URN_UNKNOWN_SCHOOL", "all_day_team", "cohort_row", "nhs_number",
]  # fmt: skip

# A school URN no special meaning attaches to (contracts.common names the two that join a clinic cohort).
A_SCHOOL = "123456"
# The cohort upload's columns (Mavis's CSV format), in the order `cohort_row` fills them.
HEADER = [
    "CHILD_FIRST_NAME", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_NHS_NUMBER", "CHILD_SCHOOL_URN",
    "CHILD_POSTCODE", "PARENT_1_NAME", "PARENT_1_RELATIONSHIP", "PARENT_1_EMAIL", "PARENT_1_PHONE",
]  # fmt: skip

SEEDS = 10**8  # seeds are taken modulo this: a number's last eight stem digits are its seed


def nhs_number(seed: int) -> str:
    """A valid NHS number for `seed`; seeds that differ modulo 10**8 give different numbers.

    The stem is the seed under a leading 9 (the test range), or under 0, 1, … where that stem has no check
    digit: one of any two leading digits always has one, and every candidate ends in the seed's own digits.
    """
    rest = seed % SEEDS
    for lead in (9, *range(9)):
        if (number := with_check_digit(lead * SEEDS + rest)) is not None:
            return number
    raise AssertionError("unreachable: the leading digit changes the check digit")


def cohort_row(
    *,
    first_name: str,
    last_name: str,
    nhs: str,
    urn: str,
    born: date = date(2015, 3, 14),
    email: str | None = None,
    phone: str | None = None,
    postcode: str = "SW1A 1AA",
) -> list[str]:
    """One child's cells under HEADER; a parent (named, a mother) only when there is an email or a phone."""
    parent = bool(email or phone)
    return [
        first_name, last_name, born.isoformat(), nhs, urn, postcode, "Pat Parent" if parent else "",
        "Mother" if parent else "", email or "", phone or "",
    ]  # fmt: skip


def all_day_team(ods: str, *, name: str = "Test SAIS team", days_before: int = 21) -> TeamSettings:
    """A flu team whose sending window is the whole day, so what is due is sent whenever a run happens; with
    `days_before` 21 a child joining a clinic cohort a week or less before the clinic is invited at once."""
    return TeamSettings(
        ods_code=ods,
        name=name,
        email="sais@example.com",
        phone="0113 496 0000",
        booking_url="https://booking.example.com/sais",
        days_before_invitations=days_before,
        send_window_start=time(0, 0),
        send_window_end=time(23, 59, 59),
        programmes=[Programme.FLU],
    )
