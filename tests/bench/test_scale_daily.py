"""bench.scale_daily at a small size: notify's own dispatchers spread the messages over days within the caps."""

from __future__ import annotations

import math

import pytest

from bench import scale_daily

pytestmark = pytest.mark.integration

# Two replicas, caps of 1,500 a day, one send in 40 refused once with a 429.
SIZES = scale_daily.Sizes(8_000, 0.55, 1_500, 1_500, replicas=2, batch_size=200, max_in_flight=400, refuse_every=40)


def test_caps_are_used_in_full_never_exceeded_and_nothing_is_lost() -> None:
    found = scale_daily.simulate(SIZES, timeout=120)
    seeded = found["messages_by_channel"]
    caps = {"email": SIZES.email_cap, "sms": SIZES.sms_cap}
    assert sum(seeded.values()) == SIZES.messages and seeded["email"] > seeded["sms"]
    assert found["daily_cap_days"] == max(math.ceil(seeded[c] / caps[c]) for c in caps)
    assert (found["daily_cap_exceeded"], found["lost"], found["provider_duplicates"]) == (0, 0, 0)
    assert found["provider_refused"] > 0 and found["caps_unused_days"] == 0
    assert found["statuses"] == {"sent": SIZES.messages} and found["provider_sends"] == SIZES.messages
    for channel, cap in caps.items():
        per_day = [day.get(channel, 0) for _, day in sorted(found["sent_by_day"].items())]
        assert sum(per_day) == seeded[channel] and max(per_day) <= cap
        # Every day but the channel's last sends its whole cap.
        assert all(n == cap for n in per_day[: math.ceil(seeded[channel] / cap) - 1])
