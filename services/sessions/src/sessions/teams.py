"""Teams, their settings and their locations (schools and real clinic venues): pure rules, no IO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from contracts.common import CLINIC_URNS, URN_UNKNOWN_SCHOOL
from sessions.domain import UNKNOWN_VENUE, Refused, programme_set


class LocationKind(StrEnum):
    SCHOOL = "school"
    COMMUNITY_CLINIC = "community_clinic"


@dataclass(slots=True)
class Team:
    ods_code: str
    name: str
    email: str
    phone: str
    booking_url: str | None
    days_before_invitations: int
    send_window_start: time
    send_window_end: time
    reply_to_id: str | None
    programmes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.send_window_start >= self.send_window_end:
            raise Refused(
                "invalid_sending_window",
                f"The sending window must open before it closes "
                f"({self.send_window_start:%H:%M}–{self.send_window_end:%H:%M} does not).",
            )
        self.programmes = programme_set(self.programmes)


@dataclass(frozen=True, slots=True)
class Location:
    team_ods: str
    location_id: str
    kind: LocationKind
    name: str


def new_location(*, team_ods: str, location_id: str, kind: str, name: str) -> Location:
    """A location to add to a team; the placeholder URNs are never real schools."""
    location_kind = LocationKind(kind)
    if location_kind is LocationKind.SCHOOL:
        if location_id in CLINIC_URNS:
            meaning = "unknown school" if location_id == URN_UNKNOWN_SCHOOL else "home-educated"
            raise Refused(
                "placeholder_urn",
                f"URN {location_id} means '{meaning}', not a school; those children belong to the community clinic.",
            )
        if not (len(location_id) == 6 and location_id.isdigit()):
            raise Refused("invalid_urn", f"A school is added by its 6-digit URN; {location_id!r} is not one.")
    elif location_id == UNKNOWN_VENUE:
        raise Refused("reserved_venue_id", f"{UNKNOWN_VENUE!r} is reserved for 'venue not known'; choose another id.")
    return Location(team_ods=team_ods, location_id=location_id, kind=location_kind, name=name)
