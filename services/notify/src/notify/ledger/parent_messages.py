"""What a SendParentMessage adds to a message (issue 20): the consent form's link, and for a confirmation of an
online response the contact details, names and follow-up the parent gave on the form."""

from __future__ import annotations

from contracts.consent import SendParentMessage
from notify.domain.recipients import Child, Recipient, Team
from notify.domain.templates import personalisation


def about(child: Child | None, command: SendParentMessage) -> Child:
    """The child as the message names them: as the parent typed them on the form, else notify's copy."""
    first = command.child_first_name or (child.first_name if child else "")
    last = command.child_last_name or (child.last_name if child else "")
    if child is None:
        return Child(child_id=str(command.child_id), team_ods=command.team_ods, first_name=first, last_name=last)
    return Child(
        child_id=child.child_id,
        team_ods=child.team_ods,
        first_name=first,
        last_name=last,
        deceased=child.deceased,
        restricted=child.restricted,
        invalidated=child.invalidated,
        archived=child.archived,
        parents=child.parents,
    )


def explicit_recipients(command: SendParentMessage) -> list[Recipient] | None:
    """The form's contact details (email; the phone only with `sms`), or None to write to the parents on record."""
    given = command.recipient
    if given is None:
        return None
    parent_id = str(command.parent_id) if command.parent_id else None
    found = [Recipient(parent_id, "email", str(given.email))] if given.email else []
    if command.sms and given.phone and given.phone.strip():
        found.append(Recipient(parent_id, "sms", given.phone.strip()))
    return found


def extra_values(command: SendParentMessage, team: Team) -> dict[str, str]:
    """The personalisation this message adds: the form link, the responding parent and a follow-up."""
    values = personalisation(
        child_given_name="",
        child_family_name="",
        programmes=[str(p) for p in command.programmes],
        team_name=team.name,
        team_email=team.email,
        team_phone=team.phone,
        booking_link="",
        consent_form_link=command.consent_form_url,
        parent_name=command.parent_name,
        follow_up_requested=command.follow_up_requested,
    )
    return {k: values[k] for k in ("consent_form_link", "parent_full_name", "follow_up_sentence")}
