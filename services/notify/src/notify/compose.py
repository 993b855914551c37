"""Turning a child, a team and a message kind into notifications: recipients, template and personalisation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notify.domain import Child, Notification, Team, new_notification, recipients
from notify.scheduling import SendingWindow
from notify.templates import Channel, MessageKind, TemplateCatalogue, personalisation


def personalise(child: Child, team: Team, programmes: Sequence[str]) -> dict[str, str]:
    return personalisation(
        child_given_name=child.first_name,
        child_family_name=child.last_name,
        programmes=programmes,
        team_name=team.name,
        team_email=team.email,
        team_phone=team.phone,
        # Teams without an online booking service take bookings by phone.
        booking_link=team.booking_url or team.phone,
    )


def compose(
    *,
    child: Child,
    team: Team,
    kind: str,
    programmes: Sequence[str],
    academic_year: int,
    now: datetime,
    catalogue: TemplateCatalogue,
    invitation_id: str | None = None,
    sms: bool = True,
    only_parent: str | None = None,
    window: SendingWindow | None = None,
) -> list[Notification]:
    """One notification per contactable parent and channel, in the team's template for `kind`."""
    values = personalise(child, team, programmes)
    found = []
    for recipient in recipients(child.parents, sms=sms, only_parent=only_parent):
        template = catalogue.resolve(MessageKind(kind), Channel(recipient.channel), team.ods_code)
        found.append(
            new_notification(
                recipient=recipient,
                child_id=child.child_id,
                team_ods=team.ods_code,
                kind=kind,
                template_id=template.id,
                personalisation=values,
                now=now,
                invitation_id=invitation_id,
                reply_to_id=team.reply_to_id,
                window=window,
                programmes=programmes,
                academic_year=academic_year,
            )
        )
    return found
