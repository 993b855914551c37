"""Messages and replies of the online consent form: confirmations, warnings, the form's view and receipts."""

from __future__ import annotations

import uuid
from typing import Any

from consent import questions
from consent.domain import Child
from consent.form_repository import FormRecord
from consent.form_rules import CREATED_CHILD_NAMESPACE, RECORDED_BY
from consent.status import Response
from contracts.cohort import ParentContact
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL, MessageKind, Programme
from contracts.consent import (
    AddChildFromConsentResponse,
    ConsentFormReceipt,
    ConsentFormView,
    EducationSetting,
    LinkKind,
    MessageRecipient,
    SendParentMessage,
)
from contracts.envelope import Message


def form_view(
    *, kind: LinkKind, team: Any, year: int, programmes: tuple[str, ...], closes_on: Any, child: Child | None
) -> ConsentFormView:
    """What the holder of a link may see: the team and programmes, and for a request link the child's name."""
    return ConsentFormView(
        link_kind=kind,
        team_ods=team.ods_code,
        team_name=team.name,
        team_email=team.email,
        team_phone=team.phone,
        academic_year=year,
        programmes=[questions.form_programme(p) for p in programmes],
        child_first_name=child.first_name if child else None,
        child_last_name=child.last_name if child else None,
        closes_on=closes_on,
    )


def receipt(record: FormRecord, *, repeated: bool = False) -> dict[str, Any]:
    matched = record.child_id is not None and record.state.value == "matched"
    return ConsentFormReceipt(
        response_id=record.response_id, matched=matched, needs_triage=record.needs_triage, repeated=repeated
    ).model_dump(mode="json")


def _programmes(record: FormRecord, response: Response) -> list[Programme]:
    return [a.programme for a in record.answers.answers if a.response is response]


def confirmations(record: FormRecord, *, cause: Message) -> list[SendParentMessage]:
    """Mavis `Notifier::ConsentForm#send_confirmation`, to the contact details given on the form.

    Given: the triage wording when a health answer needs the team's review (email only), else the given
    wording by email and, with "text me updates", by text. Refused: the refused wording, with the follow-up
    sentence when the parent asked to talk it through. A response not matched yet is keyed by its own id.
    """
    form = record.answers
    sms = form.text_updates and bool(form.phone)
    recipient = MessageRecipient(email=form.email, phone=form.phone if sms else None)
    sent: list[SendParentMessage] = []
    given, refused = _programmes(record, Response.GIVEN), _programmes(record, Response.REFUSED)
    follow_up = any(a.follow_up_requested for a in form.answers if a.response is Response.REFUSED)
    if given:
        kind = (
            MessageKind.CONSENT_CONFIRMATION_TRIAGE if record.needs_triage else MessageKind.CONSENT_CONFIRMATION_GIVEN
        )
        sent.append(_to_form(record, recipient, kind, given, sms=sms and not record.needs_triage, cause=cause))
    if refused:
        kind = MessageKind.CONSENT_CONFIRMATION_REFUSED
        sent.append(_to_form(record, recipient, kind, refused, sms=sms, follow_up=follow_up, cause=cause))
    return sent


def _to_form(
    record: FormRecord,
    recipient: MessageRecipient,
    kind: MessageKind,
    programmes: list[Programme],
    *,
    sms: bool,
    cause: Message,
    follow_up: bool = False,
) -> SendParentMessage:
    form = record.answers
    return SendParentMessage(
        child_id=record.child_id or record.response_id,
        team_ods=record.team_ods,
        kind=kind,
        programmes=programmes,
        academic_year=record.academic_year,
        sms=sms,
        requested_by=RECORDED_BY,
        recipient=recipient,
        child_first_name=form.child_preferred_name or form.child_first_name or None,
        child_last_name=form.child_last_name or None,
        parent_name=form.parent_name or None,
        follow_up_requested=follow_up,
        **cause.caused_by(cause),
    )


def unknown_contact_warnings(record: FormRecord, child: Child, *, cause: Message) -> list[SendParentMessage]:
    """Mavis `send_unknown_contact_details_warning`: every parent on record (email; text if they opted in)."""
    return [
        SendParentMessage(
            child_id=child.child_id,
            team_ods=child.team_ods,
            kind=MessageKind.CONSENT_UNKNOWN_CONTACT_DETAILS,
            programmes=[a.programme for a in record.answers.answers],
            academic_year=record.academic_year,
            parent_id=parent.parent_id,
            sms=parent.has_phone and parent.receive_updates,
            requested_by=RECORDED_BY,
            **cause.caused_by(cause),
        )
        for parent in child.parents
        if parent.contactable
    ]


def _school(record: FormRecord) -> str:
    form = record.answers
    if form.education_setting is EducationSetting.SCHOOL and form.school_urn:
        return form.school_urn
    return URN_HOME_EDUCATED if form.education_setting is EducationSetting.HOME_EDUCATED else URN_UNKNOWN_SCHOOL


def created_child_id(response_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(CREATED_CHILD_NAMESPACE, str(response_id))


def add_child(record: FormRecord, *, created_by: str, cause: Message) -> AddChildFromConsentResponse:
    form = record.answers
    parent = ParentContact(
        parent_id=uuid.uuid5(CREATED_CHILD_NAMESPACE, f"{record.response_id}:parent"),
        name=form.parent_name or None,
        relationship=form.relationship_other if form.relationship.value == "other" else form.relationship.value,
        email=form.email,
        phone=form.phone,
        receive_updates=form.text_updates,
    )
    return AddChildFromConsentResponse(
        child_id=created_child_id(record.response_id),
        response_id=record.response_id,
        team_ods=record.team_ods,
        first_name=form.child_first_name,
        last_name=form.child_last_name,
        date_of_birth=form.child_date_of_birth,
        postcode=form.address.postcode if form.address else None,
        school_urn=_school(record),
        parent=parent,
        programmes=[Programme(p) for p in record.programmes],
        academic_year=record.academic_year,
        created_by=created_by,
        **cause.caused_by(cause),
    )


def summary(record: FormRecord) -> dict[str, Any]:
    """One response as staff list it."""
    form = record.answers
    return {
        "response_id": str(record.response_id),
        "submitted_at": record.submitted_at.isoformat(),
        "state": record.state.value,
        "link_kind": record.link_kind,
        "child_id": str(record.child_id) if record.child_id else None,
        "child_name": f"{form.child_first_name} {form.child_last_name}",
        "date_of_birth": form.child_date_of_birth.isoformat(),
        "postcode": form.address.postcode if form.address else None,
        "parent_name": form.parent_name,
        "needs_triage": record.needs_triage,
        "answers": {a.programme.value: a.response.value for a in form.answers},
    }


def detail(record: FormRecord) -> dict[str, Any]:
    """One response as the parent gave it, and what became of it."""
    return {
        **summary(record),
        "team_ods": record.team_ods,
        "academic_year": record.academic_year,
        "decided_by": record.decided_by,
        "decided_at": record.decided_at.isoformat() if record.decided_at else None,
        "notes": record.notes,
        "form": record.answers.model_dump(mode="json"),
    }
