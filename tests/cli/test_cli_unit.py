"""The `clinics` command without a broker: parsing, files, rendering and usage errors."""

from __future__ import annotations

import logging
import random
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from clinics_cli import deadletters, demo, output, views
from clinics_cli.client import EXIT_USAGE, Client, CliError, _missing_entity, connect_failure, safe_url
from clinics_cli.deadletters import dead_letter_queue
from clinics_cli.importing import read_rows
from clinics_cli.main import app
from contracts import cohort, topology
from contracts.common import CLINIC_URNS
from contracts.envelope import Message
from msgkit.clock import academic_year_of

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """The CLI quietens the broker libraries' loggers; the rest of the test run keeps its own settings."""
    names = ["aio_pika", "aiormq", "faststream"]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = logging.getLogger().handlers[:]
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


def test_rows_are_numbered_as_in_a_spreadsheet_and_only_trailing_blank_rows_left_out(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_bytes("\ufeffCHILD_FIRST_NAME,CHILD_LAST_NAME\nAmélie,Smith\n,\n\nBen,Jones\n,\n , \n".encode())
    header, rows = read_rows(path)
    assert header == ["CHILD_FIRST_NAME", "CHILD_LAST_NAME"]
    # The blank row between two children is sent (the service reports its missing cells); the empty
    # line (row 4) and the blank rows at the end are not.
    assert rows == [(2, ["Amélie", "Smith"]), (3, ["", ""]), (5, ["Ben", "Jones"])]


def test_an_iso_8859_1_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_bytes("CHILD_FIRST_NAME\nZoë\n".encode("iso-8859-1"))
    assert read_rows(path)[1] == [(2, ["Zoë"])]


@pytest.mark.parametrize("content", [None, b""])
def test_a_missing_or_empty_file_is_bad_usage(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "cohort.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CliError) as raised:
        read_rows(path)
    assert raised.value.exit_code == EXIT_USAGE


def test_urls_are_printed_without_credentials() -> None:
    assert safe_url("amqp://user:secret@rabbit:5672/vh") == "amqp://rabbit:5672/vh"
    assert safe_url("amqp://rabbit/") == "amqp://rabbit/"


def test_connection_failures_read_as_causes() -> None:
    assert connect_failure(TimeoutError()) == "no answer within 10s"
    assert connect_failure(ConnectionError("Connect call failed ('127.0.0.1', 1)")) == "connection refused"
    assert "access refused" in connect_failure(Exception("ACCESS_REFUSED - Login was refused"))


def test_a_missing_exchange_is_found_in_the_exception_chain() -> None:
    outer = ValueError("channel closed")
    outer.__context__ = RuntimeError("NOT_FOUND - no exchange 'sessions.requests' in vhost 'x'")
    assert _missing_entity(outer) == "NOT_FOUND - no exchange 'sessions.requests' in vhost 'x'"
    assert _missing_entity(ValueError("other")) is None


def test_cells_and_times_read_well() -> None:
    assert output.cell(None) == ""
    assert output.cell(True) == "yes"
    assert output.cell(["flu", "hpv"]) == "flu, hpv"
    assert output.cell({"vaccinated": 1, "refused": 0}) == "vaccinated: 1, refused: 0"
    assert output.cell("2026-07-01T09:00:00+00:00") == "1 Jul 2026 10:00"  # British Summer Time
    assert output.cell("2026-12-01T09:00:00+00:00") == "1 Dec 2026 09:00"
    assert output.cell("2015-03-14") == "14 Mar 2015"
    assert output.cell(["2026-12-01", "venue-1"]) == "1 Dec 2026, venue-1"
    assert output.cell({"last": "2026-12-01T09:00:00+00:00"}) == "last: 1 Dec 2026 09:00"
    assert output.cell("9990000018") == "9990000018"


def test_every_table_reads_times_in_london_and_json_keeps_them_iso(capsys: pytest.CaptureFixture[str]) -> None:
    reply = {"child_id": "c1", "invitations": [], "notifications": [
        {"kind": "clinic_initial_invitation", "channel": "email", "status": "sent",
         "sent_at": "2026-07-01T08:00:00.123+00:00", "completed_at": None},
    ]}  # fmt: skip
    with output.console.capture() as captured:
        views.invitation_status(reply)
    assert "1 Jul 2026 09:00" in captured.get() and "2026-07-01T08:00" not in captured.get()
    output.write_json(reply)
    assert '"sent_at": "2026-07-01T08:00:00.123+00:00"' in capsys.readouterr().out


def test_session_dates_read_as_days() -> None:
    data = {"kind": "clinic", "state": "scheduled", "last_date": "2027-01-15",
            "dates": [{"on": "2027-01-08", "venue_id": "venue-1"}, {"on": "2027-01-15", "venue_id": None}]}  # fmt: skip
    with output.console.capture() as captured:
        views.session(data)
    text = captured.get()
    assert "8 Jan 2027 at venue-1, 15 Jan 2027" in text and "2027-01" not in text


def test_the_activity_log_is_a_table_of_when_and_what() -> None:
    data = {
        "child_id": "c1",
        "entries": [
            {"occurred_at": "2026-11-20T10:00:00+00:00", "kind": "joined", "text": "Joined the cohort", "details": {}},
            {"occurred_at": "2026-11-21T11:30:00+00:00", "kind": "sent", "text": "[email] sent", "details": {}},
        ],
    }
    with output.console.capture() as captured:
        views.activity(data)
    text = captured.get()
    assert re.search(r"when\s+.*what", text)
    assert "20 Nov 2026 10:00" in text and "Joined the cohort" in text
    assert "[email] sent" in text  # shown as written, never read as markup


def test_a_clinic_list_page_prints_the_cursor_of_the_next() -> None:
    child = {"child_id": "c1", "first_name": "Ada", "last_name": "Lovelace", "nhs_number": "9990000026",
             "date_of_birth": "2015-01-01", "school_urn": "888888", "do_not_contact": False, "joined_on": "2026-10-01",
             "reason": "unknown_school", "invited": True, "consent_status": "no_response",
             "vaccinated": False}  # fmt: skip
    page = {"total": 3, "page": 1, "page_size": 1, "children": [child], "after": None, "next_cursor": "abc_-1"}
    with output.console.capture() as captured:
        views.clinic_children(page)
        views.clinic_children({**page, "after": "abc_-1", "next_cursor": None})
    first, last = captured.get().split("next page: --after abc_-1")
    assert "page 1 of 3, 3 in all" in first and "Ada Lovelace" in first
    assert "the page after the cursor, 3 in all" in last and "next page" not in last


def test_a_clinic_list_says_why_a_child_was_not_invited() -> None:
    child = {"child_id": "c1", "first_name": "Ada", "last_name": "Lovelace", "nhs_number": "9990000026",
             "date_of_birth": "2015-01-01", "school_urn": "888888", "do_not_contact": False, "joined_on": "2026-10-01",
             "reason": "unknown_school", "invited": False, "not_invited_because": "waiting for clinic dates",
             "consent_status": "no_response", "vaccinated": False}  # fmt: skip
    page = {"total": 1, "page": 1, "page_size": 50, "children": [child], "after": None, "next_cursor": None}
    with output.console.capture() as captured:
        views.clinic_children(page)
    text = " ".join(captured.get().split())
    assert "why not invited" in text and "waiting for clinic dates" in text


SESSION = {"session_id": "s1", "kind": "school", "state": "scheduled", "school_urn": "100001", "school_name": "Elm",
           "last_date": "2026-12-09", "closed_at": None, "closed_by": None, "dates": []}  # fmt: skip


def test_the_preview_names_the_school_says_consent_refused_and_from_when_it_can_be_sent() -> None:
    counts = {"session_id": "s1", "will_invite": 3, "left_out": {"consent_refused": 2, "not_contactable": 1}}
    with output.console.capture() as captured:
        views.preview({**counts, "session": SESSION})
    text = " ".join(captured.get().split())
    assert "Send clinic invitations for Elm (URN 100001) would invite 3 child(ren)" in text
    assert "The session is not completed: it can be sent from 10 Dec 2026" in text
    assert "consent refused" in text and "not contactable" in text
    closed = {**SESSION, "state": "completed", "closed_at": "2026-12-10T09:00:00+00:00"}
    with output.console.capture() as captured:
        views.preview({**counts, "session": closed})
    assert "Already sent on 10 Dec 2026 09:00: sending again makes 0 new invitations" in captured.get()


def test_a_second_send_says_it_was_already_sent_and_made_nothing() -> None:
    closed = {**SESSION, "state": "completed", "closed_at": "2026-12-10T09:00:00+00:00", "closed_by": "Nurse Joy"}
    with output.console.capture() as captured:
        views.sent({**closed, "already_closed": True})
    text = " ".join(captured.get().split())
    assert "Clinic invitations for Elm (URN 100001) were already sent on 10 Dec 2026 09:00 by Nurse Joy" in text
    assert "0 new invitations" in text


def test_a_child_with_nothing_yet_has_no_invitations_yet() -> None:
    with output.console.capture() as captured:
        views.invitation_status({"child_id": "c1", "invitations": [], "notifications": []})
    assert captured.get().strip() == "no invitations yet for child c1"


def test_found_children_show_their_parents_ids_and_how_each_can_be_reached() -> None:
    child = {"child_id": "c1", "first_name": "Ada", "last_name": "Lovelace", "nhs_number": "9990000026",
             "date_of_birth": "2015-01-01", "school_urn": "888888", "do_not_contact": False, "parents": [
                 {"parent_id": "p-1", "name": "Pat", "relationship": "Mother", "email": "pat@example.com",
                  "phone": "07700900982", "contactable_by": ["email", "sms"]},
                 {"parent_id": "p-2", "name": "Lee", "relationship": "Father", "email": None,
                  "phone": "01134960123", "contactable_by": []}]}  # fmt: skip
    with output.console.capture() as captured:
        views.children_found({"children": [child]})
    text = captured.get()
    assert "p-1" in text and "pat@example.com" in text and "email, sms" in text
    assert "p-2" in text and "not contactable" in text


def test_the_cli_reads_the_reason_header_the_kit_writes() -> None:
    from msgkit import deadletter

    assert deadletters.REASON_HEADER == deadletter.REASON_HEADER


def test_dead_letter_queues_are_named_with_or_without_dlq() -> None:
    binding = topology.all_bindings()[0]
    assert dead_letter_queue(binding.queue) == binding
    assert dead_letter_queue(binding.dead_letter_queue) == binding
    with pytest.raises(CliError) as raised:
        dead_letter_queue("no.such.queue")
    assert raised.value.exit_code == EXIT_USAGE


def test_demo_children_have_valid_nhs_numbers_and_the_promised_mix() -> None:
    rows = demo.cohort_rows(random.Random(7))
    assert len(rows) == 12
    urns = [cells[4] for _, cells in rows]
    assert sum(u in CLINIC_URNS for u in urns) == 3
    assert all(urns.count(u) == 3 for u in demo.SCHOOLS)
    for _, cells in rows:
        digits = [int(d) for d in cells[3]]
        check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
        assert digits[9] == (0 if check == 11 else check)


class ServicesThatSendLater:
    """A stand-in for the services: notify sends the consent request only on the third look at the log."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, message: Message, *, timeout: float | None = None) -> dict[str, Any]:
        self.asked.append(type(message).__name__)
        if not isinstance(message, cohort.GetActivityLog):
            return {}
        looks = self.asked.count("GetActivityLog")
        sent = [
            {"kind": "notification_sent", "details": {"message": "consent_clinic_request", "channel": channel}}
            for channel in (["email"] if looks == 2 else ["email", "sms"] if looks > 2 else [])
        ]
        return {"child_id": str(message.child_id), "entries": sent}


async def test_the_demo_phones_the_parent_only_once_the_consent_request_has_gone_out_on_both_channels() -> None:
    services = ServicesThatSendLater()
    run = demo.Demo(cast(Client, services), as_json=True)
    await demo.consent_by_phone(run, uuid.uuid4())
    looks = ["GetActivityLog"] * 3
    assert services.asked == ["SendConsentRequest", *looks, "RecordConsent"]


@pytest.mark.parametrize("today", [date(2026, 11, 21), date(2027, 8, 28), date(2027, 8, 31)])
def test_demo_clinic_days_stay_in_one_academic_year(today: date) -> None:
    days = demo.clinic_days(today)
    assert days[0] == today
    assert {academic_year_of(d) for d in days} == {academic_year_of(today)}


@pytest.mark.parametrize(
    "args",
    [
        ["team", "set", "--ods", "no way", "--name", "x", "--email", "a@example.com", "--phone", "1"],
        ["team", "set", "--ods", "RYG", "--name", "x", "--email", "not-an-email", "--phone", "1"],
        ["session", "clinic-dates", "--team", "RYG", "-p", "flu", "--date", "next tuesday"],
        ["session", "create-school", "--team", "RYG", "--urn", "12", "-p", "flu", "--date", "2026-11-01"],
        ["vaccinate", "00000000-0000-0000-0000-000000000000", "--session", "x", "-p", "flu", "--by", "N"],
        ["children", "list", "--team", "RYG", "--filter", "everyone"],
        ["dead-letters", "replay", "cohort.nothing.dlq"],
    ],
)
def test_bad_usage_exits_2_before_any_connection(args: list[str]) -> None:
    # The URL names a closed port: reaching the broker would exit 3, so 2 proves nothing was sent.
    result = runner.invoke(app, args, env={"CLINICS_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:9/"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_every_command_has_help() -> None:
    groups = {"team": ["set", "add-location"], "session": ["create-school", "clinic-dates", "clinic", "show"],
              "invitations": ["preview", "send", "child", "walk-in", "status"],
              "consent": ["request", "record", "status"],
              "children": ["find", "activity", "list", "change-school", "flags"],
              "dead-letters": ["list", "show", "replay"]}  # fmt: skip
    commands = [[group, command] for group, names in groups.items() for command in names]
    for args in [*commands, ["vaccinate"], ["import-cohort"], ["demo"]]:
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)


def test_a_list_of_urls_is_printed_without_credentials() -> None:
    assert safe_url("amqp://user:secret@rabbit-0:5672/vh,rabbit-1:5672") == "amqp://rabbit-0:5672/vh,rabbit-1:5672"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("amqp://staff:On-the-Line@127.0.0.1:9/,127.0.0.1:10", "no password on the command line"),
        ("amqp://127.0.0.1:9/,amqp://127.0.0.1:10/other", "another virtual host"),
        ("amqp://127.0.0.1:9/,,127.0.0.1:10", "is empty"),
    ],
)
def test_a_bad_address_list_on_the_command_line_is_bad_usage(url: str, complaint: str) -> None:
    result = runner.invoke(app, ["--url", url, "dead-letters", "list"])
    assert result.exit_code == 2, result.output
    assert complaint in " ".join(result.output.replace("│", " ").split())  # the usage box wraps the message
    assert "On-the-Line" not in result.output


def test_a_bad_address_list_in_the_environment_is_bad_usage() -> None:
    env = {"CLINICS_RABBITMQ_URL": "amqp://staff:From-Env@127.0.0.1:9/,amqp://other:x@127.0.0.1:10/"}
    for args in (["dead-letters", "list"], ["session", "show", "00000000-0000-0000-0000-000000000000"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, result.output
        assert "bad RabbitMQ address list" in result.output
        assert "From-Env" not in result.output


def test_every_node_of_the_list_is_tried_before_the_broker_is_called_unreachable() -> None:
    result = runner.invoke(
        app, ["dead-letters", "list"], env={"CLINICS_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:9/,127.0.0.1:10"}
    )
    assert result.exit_code == 3, result.output
    assert "127.0.0.1:9/,127.0.0.1:10" in result.output
