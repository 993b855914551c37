"""`clinics import-cohort` holding changed and possibly duplicate rows, `clinics imports review` showing them
side by side, and `clinics imports decide` (issue 19, item 18), against the four running services."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess

from .cli_support import Cli
from .support import child, child_id, csv_text
from .test_cli import make_team
from .test_clinic_flow import new_team, seed

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


async def test_held_rows_are_reviewed_side_by_side_and_decided_through_the_cli(
    cli: Cli, client: RabbitBroker, tmp_path: Path
) -> None:
    ods = new_team()
    await make_team(cli, ods)
    n = seed()
    known, unnumbered = child(n, "123456"), dataclasses.replace(child(n + 1, "123456"), nhs="")
    first = tmp_path / "first.csv"
    first.write_text(csv_text([known, unnumbered]))
    (await cli("import-cohort", first, "--team", ods)).ok()

    renamed = dataclasses.replace(known, last_name="Renamed")
    moved = dataclasses.replace(unnumbered, urn="999999", born=unnumbered.born.replace(day=15))
    second = tmp_path / "second.csv"
    second.write_text(csv_text([renamed, moved]))
    imported = (await cli("import-cohort", second, "--team", ods)).ok().stdout
    assert "2 records need review" in imported
    import_id = imported.split("clinics imports review ")[1].split(")")[0].strip()

    shown = (await cli("imports", "review", import_id)).ok().stdout
    assert "2 row(s) held for review, 2 undecided" in shown
    assert "Renamed" in shown and known.last_name in shown and "the same NHS number" in shown
    assert "3 of name, date of birth and postcode" in shown and "≠" in shown

    used = (await cli("imports", "decide", import_id, "2", "--use-upload", "--by", "Nurse Joy")).ok().stdout
    assert "row 2 decided (use upload)" in used
    both = (await cli("imports", "decide", import_id, "3", "--keep-both", "--by", "Nurse Joy", json=True)).ok().json()
    assert both["joined_clinic"] is True and both["child_id"] != str(await child_id(client, ods, known))
    twice = (await cli("imports", "decide", import_id, "3", "--keep-existing", "--by", "Nurse Joy")).failed(1)
    assert "already_decided" in twice.stderr
    (await cli("imports", "decide", import_id, "2", "--use-upload", "--keep-both", "--by", "Nurse Joy")).failed(2)

    log = (await cli("children", "activity", await child_id(client, ods, renamed))).ok().stdout
    assert "the uploaded details were used (last name), decided by Nurse Joy" in log
    after = (await cli("imports", "review", import_id, json=True)).ok().json()
    assert after["undecided"] == 0 and [r["decision"] for r in after["reviews"]] == ["use_upload", "keep_both"]
