"""`clinics consent-responses` and `clinics consent link`: what staff see of parents' online responses."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from clinics_cli import consent_responses, output
from clinics_cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()

RESPONSE = {
    "response_id": "5b1f4a52-0000-4000-8000-000000000001",
    "submitted_at": "2026-03-10T12:00:00+00:00",
    "state": "unmatched",
    "link_kind": "team",
    "child_id": None,
    "child_name": "Aoife O’Brien",
    "date_of_birth": "2016-04-02",
    "postcode": "LS1 4AP",
    "parent_name": "<script>alert(1)</script>",
    "needs_triage": True,
    "answers": {"flu": "given"},
}


def test_the_list_reads_oldest_first_with_triage_marked() -> None:
    data = {"team_ods": "RYG", "page": 1, "page_size": 50, "total": 1, "responses": [RESPONSE]}
    with output.console.capture() as captured:
        consent_responses.listed(data)
    text = captured.get()
    assert "oldest first" in text and "Aoife O’Brien" in text and "flu: given" in text
    assert "<script>alert(1)</script>" in text  # shown exactly as typed, never interpreted


def test_a_response_shows_what_the_parent_typed_with_control_characters_escaped() -> None:
    health = [{"question": "Asthma?", "answer": True, "details": "inhaler \x1b[2J daily"}]
    form = {
        "child_first_name": "Aoife",
        "answers": [{"programme": "flu", "response": "given", "health_answers": health}],
    }
    with output.console.capture() as captured:
        consent_responses.shown({**RESPONSE, "form": form, "notes": None})
    text = captured.get()
    assert "\x1b" not in text and "inhaler \\x1b[2J daily" in text and "health questions (flu)" in text


@pytest.mark.parametrize(
    "args",
    [
        ["consent-responses", "match", "not-a-uuid", "5b1f4a52-0000-4000-8000-000000000001", "--by", "n"],
        ["consent-responses", "archive", "5b1f4a52-0000-4000-8000-000000000001", "--by", "n"],
        ["consent", "link", "--team", "not valid!"],
    ],
)
def test_bad_usage_exits_2_before_any_connection(args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_every_consent_response_command_has_help() -> None:
    for command in ("list", "show", "match", "create-child", "archive"):
        result = runner.invoke(app, ["consent-responses", command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
    assert runner.invoke(app, ["consent", "link", "--help"]).exit_code == 0
