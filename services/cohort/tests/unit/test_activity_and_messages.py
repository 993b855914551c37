"""Activity entries, outgoing message batches and chunk validation, without IO."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from cohort import activity
from cohort.domain import Child, CohortYear, Invitation, Join, JoinReason, Parent, Trigger
from cohort.importer import validate_rows
from cohort.messages import children_upserted, joined_and_invited
from contracts.cohort import ChildrenJoinedClinicCohort, ChildrenUpserted, InviteToClinic, SetChildFlags
from contracts.common import Channel, MessageKind
from contracts.notify import NotificationCancelled, NotificationsSent, SentNotification
from msgkit.outbox import spliced_row

pytestmark = pytest.mark.unit

AT = datetime(2025, 10, 15, 9, tzinfo=UTC)
CAUSE = SetChildFlags(child_id=uuid.uuid4(), changed_by="t")
COHORT = CohortYear("RXX", 2025, AT.date())


def sent_to(recipient: str) -> tuple[NotificationsSent, SentNotification]:
    sent = SentNotification(
        notification_id=uuid.uuid4(),
        child_id=uuid.uuid4(),
        team_ods="RXX",
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=Channel.EMAIL,
        recipient=recipient,
        sent_at=AT,
    )
    return NotificationsSent(notifications=[sent]), sent


def test_sent_entry_names_the_recipient_unless_the_child_is_restricted() -> None:
    entry = activity.notification_sent(*sent_to("jane@example.com"), restricted=False)
    text, _ = activity.shown(entry.kind, entry.details, restricted=False)
    assert text == "Clinic initial invitation sent by email to jane@example.com"
    hidden = activity.notification_sent(*sent_to("jane@example.com"), restricted=True)
    assert hidden.details["recipient"] == "(hidden)"
    assert "jane@" not in json.dumps(hidden.details)


def test_an_entry_written_before_the_child_was_restricted_is_hidden_when_read() -> None:
    entry = activity.notification_sent(*sent_to("jane@example.com"), restricted=False)
    text, details = activity.shown(entry.kind, entry.details, restricted=True)
    assert text == "Clinic initial invitation sent by email to (hidden)" and details["recipient"] == "(hidden)"


def test_a_cancelled_message_reads_with_its_channel_and_reason_once_per_event() -> None:
    event = NotificationCancelled(
        notification_id=uuid.uuid4(), child_id=uuid.uuid4(), kind=MessageKind.CONSENT_CLINIC_REQUEST,
        channel=Channel.SMS, reason="consent already given", occurred_at=AT,
    )  # fmt: skip
    entry = activity.notification_cancelled(event)
    assert (entry.child_id, entry.occurred_at, entry.source_key) == (event.child_id, AT, event.message_id)
    text, _ = activity.shown(entry.kind, entry.details, restricted=False)
    assert text == "Consent request by sms cancelled: consent already given"


def test_a_join_reads_with_its_programmes_year_and_reason() -> None:
    join = Join(uuid.uuid4(), ("flu", "hpv"), JoinReason.HOME_EDUCATED)
    entry = activity.joined(join, COHORT, at=AT, source=uuid.uuid4())
    text, _ = activity.shown(entry.kind, entry.details, restricted=False)
    assert text == "Joined the community clinic cohort for Flu, HPV (2025/26): home-educated"


def _scheduled_text(due_at: str | None) -> str:
    # Shaped as the database writes it: JSONB of a timestamptz is ISO text with an offset.
    details = {"invitation_id": str(uuid.uuid4()), "programmes": ["flu"], "kind": "initial", "due_at": due_at}
    text, shown = activity.shown("invitation_scheduled", details, restricted=False)
    assert shown["due_at"] == due_at  # the data keeps the ISO value
    return text


def test_a_scheduled_invitation_reads_its_due_time_in_london_time_in_summer_and_winter() -> None:
    # 09:00 in BST is 08:00 UTC; in GMT it is 09:00 UTC.
    assert (
        _scheduled_text("2027-06-10T08:00:00+00:00")
        == "Clinic initial invitation for Flu scheduled for 10 Jun 2027 09:00"
    )
    assert _scheduled_text("2026-12-02T19:08:43.949262+00:00") == (
        "Clinic initial invitation for Flu scheduled for 2 Dec 2026 19:08"
    )
    assert _scheduled_text(None) == "Clinic initial invitation for Flu scheduled to go out once clinic dates are set"


def test_entries_of_one_message_have_stable_distinct_keys() -> None:
    source = uuid.uuid4()
    joins = [Join(uuid.uuid4(), ("flu",), JoinReason.UNKNOWN_SCHOOL) for _ in range(2)]
    keys = [activity.joined(j, COHORT, at=AT, source=source).source_key for j in joins]
    again = activity.joined(joins[0], COHORT, at=AT, source=source).source_key
    assert len(set(keys)) == 2 and again == keys[0]


def test_joins_and_invitations_go_out_in_batches_of_at_most_a_thousand() -> None:
    joins = [Join(uuid.uuid4(), ("flu",), JoinReason.HOME_EDUCATED) for _ in range(2_500)]
    invitations = [Invitation(j.child_id, j.programmes, j.reason, Trigger.AUTOMATIC) for j in joins]
    messages = joined_and_invited(joins, invitations, COHORT, cause=CAUSE)
    joined = [m for m in messages if isinstance(m, ChildrenJoinedClinicCohort)]
    invited = [m for m in messages if isinstance(m, InviteToClinic)]
    assert [len(m.joins) for m in joined] == [1000, 1000, 500]
    assert [len(m.invitations) for m in invited] == [1000, 1000, 500]
    assert all(m.causation_id == CAUSE.message_id for m in messages)
    assert invited[0].invitations[0].trigger.value == "automatic"


def test_snapshots_built_by_the_database_are_spliced_into_a_valid_message() -> None:
    child = Child(
        id=uuid.uuid4(),
        team_ods="RXX",
        first_name="Jane",
        last_name="Doe",
        date_of_birth=date(2014, 5, 6),
        school_urn="888888",
        parents=[Parent(uuid.uuid4(), "Pat Doe", "Mother", "pat@example.com", None)],
    )
    [from_objects] = children_upserted([child], cause=CAUSE)
    assert isinstance(from_objects, ChildrenUpserted)
    payload = json.dumps([from_objects.children[0].model_dump(mode="json", exclude={"parents"}) | {"parents": []}])
    row = spliced_row(ChildrenUpserted, "children", payload, tracing=CAUSE.caused_by(CAUSE))
    from_json = ChildrenUpserted.model_validate_json(row["body"])  # type: ignore[arg-type]
    assert from_json.children[0].child_id == child.id and from_json.correlation_id == CAUSE.message_id
    assert row["message_id"] == from_json.message_id and row["routing_key"] == "cohort.children_upserted"


def test_chunk_rows_are_validated_against_the_raw_header() -> None:
    header = [" child_first_name", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_POSTCODE", "CHILD_SCHOOL_URN"]
    rows = [(2, ["Jane", "Doe", "2014-05-06", "ls1 4ap", "888888"]), (3, ["", "", "", "", ""]), (4, ["J", "D", "x"])]
    result = validate_rows(header, rows, today=date(2025, 10, 15))
    assert [r.row_number for r in result.rows] == [2] and result.rows[0].postcode == "LS1 4AP"
    # A blank row that is sent is checked: the sender leaves out only the blank rows after the last child.
    assert {(e.row, e.column) for e in result.errors} == {
        *((3, column.strip().upper()) for column in header),
        (4, "CHILD_DATE_OF_BIRTH"),
        (4, "CHILD_POSTCODE"),
        (4, "CHILD_SCHOOL_URN"),
    }


def test_a_bad_header_gives_only_header_errors() -> None:
    result = validate_rows(["CHILD_FIRST_NAME"], [(2, ["Jane"])], today=date(2025, 10, 15))
    assert result.rows == [] and {e.row for e in result.errors} == {0}
