"""Who is written to: notify's copies of children, parents and teams, the recipients of a message, do-not-contact."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from notify.domain.timing import SendingWindow


@dataclass(frozen=True, slots=True)
class Parent:
    parent_id: str
    email: str | None = None
    phone: str | None = None  # a mobile: the copies give no other number (texts never reach a landline)

    @property
    def contactable(self) -> bool:
        return bool(self.email or self.phone)


@dataclass(frozen=True, slots=True)
class Child:
    """Notify's copy of a child, as current as the last ChildrenUpserted."""

    child_id: str
    team_ods: str
    first_name: str
    last_name: str
    deceased: bool = False
    restricted: bool = False
    invalidated: bool = False
    archived: bool = False
    parents: tuple[Parent, ...] = ()


@dataclass(frozen=True, slots=True)
class Team:
    ods_code: str
    name: str
    email: str
    phone: str
    booking_url: str | None = None
    reply_to_id: str | None = None
    days_before_invitations: int = 21
    window: SendingWindow = field(default_factory=SendingWindow)


def default_team(ods_code: str) -> Team:
    """Timing defaults for a team whose settings have not arrived yet (never used to word a message)."""
    return Team(ods_code=ods_code, name="", email="", phone="")


@dataclass(frozen=True, slots=True)
class Recipient:
    parent_id: str | None  # None: contact details given on the consent form, of no parent on record
    channel: str  # "email" | "sms"
    to: str


def recipients(parents: Iterable[Parent], *, sms: bool = True, only_parent: str | None = None) -> list[Recipient]:
    """One email per address and one text per number over the child's contactable parents, deduplicated."""
    seen: set[tuple[str, str]] = set()
    found: list[Recipient] = []
    for parent in parents:
        if only_parent is not None and parent.parent_id != only_parent:
            continue
        for channel, to in (("email", parent.email), ("sms", parent.phone if sms else None)):
            if not to or not to.strip():
                continue
            key = (channel, "".join(to.split()).lower())
            if key not in seen:
                seen.add(key)
                found.append(Recipient(parent.parent_id, channel, to.strip()))
    return found


def do_not_contact_reason(child: Child, *, archived_blocks: bool = True) -> str | None:
    """Why this child must never be messaged, or None. Confirmations may still reach archived children."""
    if child.deceased:
        return "deceased"
    if child.restricted:
        return "restricted"
    if child.invalidated:
        return "invalidated"
    if archived_blocks and child.archived:
        return "archived"
    return None
