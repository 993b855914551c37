"""Keyset paging of the clinic children list: every child once, in order, while the list changes."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from contracts.cohort import ClinicChildrenFilter, DecideImportReview, ListClinicChildren, ReviewDecision
from contracts.common import Programme
from msgkit.runtime import Runtime

from ..cohort_support import HEADER, ask, child_row, import_children, import_rows, new_team

pytestmark = pytest.mark.integration

YEAR = 2025  # the fixed clock's academic year


def named(seed: int, first: str, last: str) -> list[str]:
    """A child of unknown school (so they join the clinic cohort on import) with these names."""
    row = child_row(seed, urn="888888", seed=seed)
    row[0], row[1] = first, last
    return row


async def listed(client: RabbitBroker, team: str, **paging: Any) -> dict[str, Any]:
    query = ListClinicChildren(team_ods=team, programme=Programme.FLU, academic_year=YEAR, **paging)
    reply = await ask(client, query)
    assert reply.ok and reply.data is not None, reply.error
    return reply.data


def ids(data: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(c["child_id"]) for c in data["children"]]


async def walk(client: RabbitBroker, team: str, *, page_size: int, after: str | None = None) -> list[list[uuid.UUID]]:
    pages = []
    while True:
        data = await listed(client, team, page_size=page_size, after=after)
        pages.append(ids(data))
        after = data["next_cursor"]
        if after is None:
            return pages


async def test_cursor_pages_hold_every_child_once_in_list_order(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    # Namesakes, so the order falls through last name and first name to the child's id.
    names = [("Ada", "Smith"), ("Ada", "Smith"), ("Bea", "Smith"), ("Cy", "Jones"), ("Di", "Zeller"),
             ("Ed", "Abbot"), ("Ada", "Smith")]  # fmt: skip
    children = await import_children(client, team, [named(5_100 + n, *name) for n, name in enumerate(names)])
    by_id = dict(zip(children, names, strict=True))
    whole = ids(await listed(client, team, page_size=500))
    assert whole == sorted(children, key=lambda c: (by_id[c][1], by_id[c][0], str(c)))

    pages = await walk(client, team, page_size=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [c for page in pages for c in page] == whole


async def test_a_page_after_a_cursor_stays_put_while_children_join(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    bell, cole, dunn, ford = await import_children(
        client, team, [named(5_200 + n, "Al", last) for n, last in enumerate(["Bell", "Cole", "Dunn", "Ford"])]
    )
    first = await listed(client, team, page_size=2)
    assert ids(first) == [bell, cole] and first["next_cursor"]
    able, east = await import_children(client, team, [named(5_210, "Al", "Able"), named(5_211, "Al", "East")])

    # A child joining before the cursor neither repeats Cole on the next page nor pushes Dunn off it.
    assert await walk(client, team, page_size=2, after=first["next_cursor"]) == [[dunn, east], [ford]]
    # Where a numbered page 2 now shows Cole again.
    assert ids(await listed(client, team, page=2, page_size=2)) == [cole, dunn]
    assert (await listed(client, team, page_size=2, after=first["next_cursor"]))["total"] == 6
    assert able not in [c for page in await walk(client, team, page_size=2, after=first["next_cursor"]) for c in page]


async def test_the_last_page_gives_no_cursor(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    empty = await listed(client, team)
    assert (empty["total"], empty["children"], empty["next_cursor"]) == (0, [], None)
    await import_children(client, team, [named(5_300 + n, "Al", f"Lane{n}") for n in range(2)])
    exactly_full = await listed(client, team, page_size=2)  # as many as a page holds: nothing follows
    assert len(exactly_full["children"]) == 2 and exactly_full["next_cursor"] is None
    # The same for a filter, and for a numbered page.
    assert (await listed(client, team, page_size=1, filter=ClinicChildrenFilter.NEEDS_CONSENT))["next_cursor"]
    assert (await listed(client, team, page=2, page_size=1))["next_cursor"] is None


async def test_a_name_change_moves_a_child_in_the_list(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    adams, brown = await import_children(client, team, [named(5_400, "Al", "Adams"), named(5_401, "Al", "Brown")])
    assert ids(await listed(client, team)) == [adams, brown]
    # The same NHS number with another name: held for review, then staff use the upload.
    import_id = uuid.uuid4()
    _, held = await import_rows(client, team, HEADER, [(2, named(5_400, "Al", "Young"))], import_id=import_id)
    assert held.data is not None and held.data["needs_review"] == 1
    decision = DecideImportReview(import_id=import_id, row_number=2, decision=ReviewDecision.USE_UPLOAD, decided_by="t")
    assert (await ask(client, decision)).ok
    data = await listed(client, team)
    assert ids(data) == [brown, adams] and data["children"][1]["last_name"] == "Young"


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["not a cursor", _cursor(b"[1, 2, 3]"), _cursor(b'["Smith", "Ada"]'), _cursor(b'["Smith", "Ada", "not-a-uuid"]'),
     _cursor(b"\xff\xfe"), "x" * 1000],
)  # fmt: skip
async def test_a_cursor_the_list_did_not_give_is_refused_clearly(
    client: RabbitBroker, runtime: Runtime, cursor: str
) -> None:
    query = ListClinicChildren(team_ods=new_team(), programme=Programme.FLU, academic_year=YEAR, after=cursor)
    reply = await ask(client, query)
    assert not reply.ok and reply.error is not None
    assert reply.error.code == "invalid_request" and "cursor" in reply.error.message


async def test_a_page_number_and_a_cursor_together_are_refused(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    await import_children(client, team, [named(5_500 + n, "Al", f"Hill{n}") for n in range(3)])
    cursor = (await listed(client, team, page_size=1))["next_cursor"]
    query = ListClinicChildren(team_ods=team, programme=Programme.FLU, academic_year=YEAR, page=2, after=cursor)
    reply = await ask(client, query)
    assert not reply.ok and reply.error is not None and reply.error.code == "invalid_request"
