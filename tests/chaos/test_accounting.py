"""The fault suite's verdict: lost and duplicated sends counted per child, parent, channel and kind."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.accounting import Recipient, normalise_address, tally
from chaos.workload import KIND, make_children, recipients

pytestmark = pytest.mark.unit

EMAIL_TEMPLATE, SMS_TEMPLATE, OTHER_TEMPLATE = "t-email", "t-sms", "t-other"
KINDS = {EMAIL_TEMPLATE: KIND, SMS_TEMPLATE: KIND, OTHER_TEMPLATE: "consent_clinic_request"}


def record(to: str, channel: str, name: str, template: str | None = None) -> dict[str, Any]:
    template = template or (EMAIL_TEMPLATE if channel == "email" else SMS_TEMPLATE)
    return {"channel": channel, "to": to, "template_id": template, "personalisation": {"child_full_name": name}}


def sends(child: Any, *channels: str) -> list[dict[str, Any]]:
    return [record(child.email if c == "email" else child.phone, c, child.full_name) for c in channels]


def count(children: list[Any], records: list[dict[str, Any]]) -> Any:
    expected = [k for c in children for k in c.expected()]
    return tally(expected=expected, recipients=recipients(children), records=records, kinds=KINDS)


def test_every_channel_sent_once_is_delivered_with_nothing_lost_or_duplicated() -> None:
    children = make_children(3, run="t", nhs_start=40_000_000)
    result = count(children, [r for c in children for r in sends(c, "email", "sms")])
    assert (result.expected, result.delivered, result.lost, result.duplicates) == (6, 6, 0, 0)
    assert result.ok


def test_a_channel_never_accepted_is_lost() -> None:
    a, b = make_children(2, run="t", nhs_start=40_000_000)
    result = count([a, b], sends(a, "email", "sms") + sends(b, "email"))
    assert (result.delivered, result.lost, result.duplicates) == (3, 1, 0)
    assert result.lost_keys == [(b.key, b.parent, "sms", KIND)]
    assert not result.ok


def test_a_send_accepted_twice_is_one_duplicate_with_one_extra_send() -> None:
    (a,) = make_children(1, run="t", nhs_start=40_000_000)
    result = count([a], sends(a, "email", "sms", "sms", "sms"))
    assert (result.delivered, result.lost, result.duplicates, result.extra_sends) == (1, 0, 1, 2)
    assert result.duplicate_keys == [(a.key, a.parent, "sms", KIND)]


def test_provider_forms_of_a_mobile_count_as_the_same_recipient() -> None:
    (a,) = make_children(1, run="t", nhs_start=40_000_000)
    international = "+44 " + a.phone[1:]
    result = count([a], [*sends(a, "email"), record(international, "sms", a.full_name)])
    assert result.lost == 0
    assert normalise_address("sms", "0044 7900 000001") == "07900000001"
    assert normalise_address("email", " Parent@Example.COM ") == "parent@example.com"


def test_strangers_other_kinds_and_wrong_names_are_reported_not_counted() -> None:
    (a,) = make_children(1, run="t", nhs_start=40_000_000)
    records = [
        *sends(a, "email"),
        record("stranger@example.com", "email", a.full_name),
        record(a.email, "email", a.full_name, template=OTHER_TEMPLATE),
        record(a.phone, "sms", "Alex Someone Else"),
    ]
    result = count([a], records)
    assert (result.unexpected, result.misaddressed, result.accepted) == (2, 1, 4)
    assert result.delivered == 2
    assert not result.ok


def test_recipient_lookup_uses_normalised_addresses() -> None:
    (a,) = make_children(1, run="t", nhs_start=40_000_000)
    lookup = recipients([a])
    assert lookup["email", a.email] == Recipient(child=a.key, parent=a.parent, full_name=a.full_name)
    assert lookup["sms", a.phone].child == a.key
