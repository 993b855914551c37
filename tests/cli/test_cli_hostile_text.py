"""Stored text the CLI prints is escaped, never obeyed by the terminal; a staff name is checked before sending."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from clinics_cli import output, views
from clinics_cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()

ESC_NAME = "Nurse \x1b[2J\x1b]0;pwned\x07Joy"
# Every kind of character a terminal obeys: C0 (with tab and newline), DEL, C1, bidi override and isolate.
OBEYED = ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u2069", "\u2028", "\u200f"]


def _no_control(text: str) -> None:
    assert not [c for c in text if c != "\n" and (c in OBEYED or ord(c) < 0x20)], repr(text)


@pytest.mark.parametrize("char", OBEYED, ids=lambda c: f"U+{ord(c):04X}")
def test_printable_shows_each_obeyed_character_as_its_escape(char: str) -> None:
    shown = output.printable(f"a{char}b")
    assert char not in shown
    assert shown == f"a\\x{ord(char):02x}b" if ord(char) < 0x100 else f"a\\u{ord(char):04x}b"


def test_names_in_any_script_are_printed_as_written() -> None:
    for name in ("Zoë O’Brien-Ng", "محمد", "李小龙", "Ṣàngó", "👩‍⚕️ Joy"):  # the last holds a zero-width joiner
        assert output.printable(name) == name


def test_the_activity_log_shows_a_staff_name_with_escapes_escaped() -> None:
    data = {"child_id": "c1", "entries": [
        {"occurred_at": "2026-11-20T10:00:00+00:00", "text": f"Consent requested for Flu by {ESC_NAME}"},
    ]}  # fmt: skip
    with output.console.capture() as captured:
        views.activity(data)
    text = captured.get()
    assert "\\x1b[2J\\x1b]0;pwned\\x07Joy" in text
    _no_control(text)


def test_every_printed_line_and_cell_is_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with output.console.capture() as captured:
        output.table([{"col\x1b": "cell \u202e", "list": [ESC_NAME], "map": {"by": ESC_NAME}}], title="t \x1b")
        output.mapping({"closed_by": ESC_NAME}, title="session \x9b")
        output.say(f"said {ESC_NAME}")
        output.emit(f"emitted {ESC_NAME}", as_json=False)
    _no_control(captured.get())
    output.fail(f"refused: {ESC_NAME}")
    output.progress_line(f"progress {ESC_NAME}")
    _no_control(capsys.readouterr().err)


def test_json_output_escapes_control_characters_itself(capsys: pytest.CaptureFixture[str]) -> None:
    output.write_json({"by": ESC_NAME + "\u202e\x7f\x85"})
    out = capsys.readouterr().out
    assert all(c == "\n" or " " <= c <= "~" for c in out), repr(out)
    assert json.loads(out) == {"by": ESC_NAME + "\u202e\x7f\x85"}


def test_emoji_codes_in_stored_text_are_not_replaced() -> None:
    with output.console.capture() as captured:
        output.say("Nurse :smile:")
    assert "Nurse :smile:" in captured.get()


@pytest.mark.parametrize(
    "command",
    [
        ["invitations", "send", str(uuid.uuid4())],
        ["invitations", "child", str(uuid.uuid4()), "--team", "RYG"],
        ["consent", "request", str(uuid.uuid4()), "--team", "RYG", "-p", "flu"],
        ["children", "change-school", str(uuid.uuid4()), "--urn", "999999"],
        ["vaccinate", str(uuid.uuid4()), "--session", str(uuid.uuid4()), "-p", "flu"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_staff_name_with_a_control_character_is_refused_before_anything_is_sent(command: list[str]) -> None:
    # No broker at this address: a refusal after connecting would exit 3, not 2.
    result = runner.invoke(app, ["--url", "amqp://127.0.0.1:1/", *command, "--by", ESC_NAME])
    assert result.exit_code == 2, result.output
    assert "must not contain control characters (U+001B at position 6)" in result.output
    assert "\x1b" not in result.output
