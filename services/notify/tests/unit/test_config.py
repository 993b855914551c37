"""Settings that would let a lookup run while the provider may still be taking the message are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notify.config import Settings

pytestmark = pytest.mark.unit


def test_a_dead_replicas_send_is_looked_up_only_after_the_provider_is_done() -> None:
    assert Settings().provider_in_flight_seconds == 60.0
    Settings(stale_sending_seconds=45, provider_timeout=10, provider_in_flight_seconds=35)
    with pytest.raises(ValidationError, match="stale_sending_seconds"):
        Settings(stale_sending_seconds=45, provider_timeout=10, provider_in_flight_seconds=60)
