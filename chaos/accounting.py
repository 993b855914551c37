"""Jepsen-style accounting: every send the provider accepted, per child, parent, channel and message kind."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (child, parent, channel, message kind): what "sent once" is counted over.
Key = tuple[str, str, str, str]

SAMPLE = 20  # keys listed in the results for each kind of anomaly


def normalise_address(channel: str, address: str) -> str:
    """An email in lower case, or a UK mobile as 07…, so the workload's and the provider's forms compare."""
    if channel == "email":
        return address.strip().lower()
    digits = re.sub(r"[^0-9]", "", address)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44"):
        digits = digits[2:]
    return digits if digits.startswith("0") else "0" + digits


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who an address belongs to in the workload: every parent has its own email and phone."""

    child: str
    parent: str
    full_name: str


@dataclass(slots=True)
class Tally:
    """The verdict: expected keys sent once, never (lost), or more than once (duplicates)."""

    expected: int
    delivered: int
    lost: int
    duplicates: int
    extra_sends: int  # accepted sends beyond the first, over all duplicated keys
    unexpected: int  # accepted sends that no expected key accounts for
    misaddressed: int  # the personalisation names another child than the recipient's
    accepted: int  # every send the provider recorded
    lost_keys: list[Key] = field(default_factory=list)
    duplicate_keys: list[Key] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.unexpected == 0 and self.misaddressed == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "extra_sends": self.extra_sends,
            "unexpected": self.unexpected,
            "misaddressed": self.misaddressed,
            "accepted": self.accepted,
            "lost_sample": [list(k) for k in self.lost_keys[:SAMPLE]],
            "duplicate_sample": [list(k) for k in self.duplicate_keys[:SAMPLE]],
        }


def tally(
    *,
    expected: Iterable[Key],
    recipients: Mapping[tuple[str, str], Recipient],
    records: Iterable[Mapping[str, Any]],
    kinds: Mapping[str, str],
) -> Tally:
    """Count the provider's records (GET /_control/sent) against the keys the workload expects.

    `recipients` maps (channel, normalised address) to its recipient; `kinds` maps template ids to
    message kinds. A record is counted under the key of its recipient, channel and template's kind.
    """
    wanted = set(expected)
    counts = _Counts()
    for record in records:
        counts.add(record, wanted, recipients, kinds)
    seen = counts.seen
    lost = sorted(k for k in wanted if seen[k] == 0)
    duplicated = sorted(k for k in wanted if seen[k] > 1)
    return Tally(
        expected=len(wanted),
        delivered=sum(1 for k in wanted if seen[k] == 1),
        lost=len(lost),
        duplicates=len(duplicated),
        extra_sends=sum(seen[k] - 1 for k in duplicated),
        unexpected=counts.unexpected,
        misaddressed=counts.misaddressed,
        accepted=counts.accepted,
        lost_keys=lost,
        duplicate_keys=duplicated,
    )


@dataclass(slots=True)
class _Counts:
    seen: Counter[Key] = field(default_factory=Counter)
    unexpected: int = 0
    misaddressed: int = 0
    accepted: int = 0

    def add(
        self,
        record: Mapping[str, Any],
        wanted: set[Key],
        recipients: Mapping[tuple[str, str], Recipient],
        kinds: Mapping[str, str],
    ) -> None:
        self.accepted += 1
        channel = str(record.get("channel", ""))
        recipient = recipients.get((channel, normalise_address(channel, str(record.get("to", "")))))
        kind = kinds.get(str(record.get("template_id", "")), "unknown")
        if recipient is None or (key := (recipient.child, recipient.parent, channel, kind)) not in wanted:
            self.unexpected += 1
            return
        named = str((record.get("personalisation") or {}).get("child_full_name", ""))
        if named != recipient.full_name:
            self.misaddressed += 1
        self.seen[key] += 1
