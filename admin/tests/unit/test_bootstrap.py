"""The service credentials the admin step hands out: the admin's addresses with the service's own user."""

from __future__ import annotations

import pytest

from clinics_admin.bootstrap import service_amqp_url, service_database_url, vhost_of
from msgkit.addresses import parse_addresses

pytestmark = pytest.mark.unit


def test_service_role_url_swaps_only_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_DB_PASSWORD", "s3cret")
    url = service_database_url("postgresql://postgres@10.0.0.5:6432/clinics", "notify")
    assert url == "postgresql://notify:s3cret@10.0.0.5:6432/clinics"


def test_a_service_user_on_a_cluster_keeps_every_node_and_the_vhost() -> None:
    admin = "amqp://admin:adm@rabbit-0:5672/clinics,rabbit-1,rabbit-2"
    assert service_amqp_url(admin, "notify") == (
        "amqp://notify:notify@rabbit-0:5672/clinics,amqp://notify:notify@rabbit-1/clinics,"
        "amqp://notify:notify@rabbit-2/clinics"
    )
    assert vhost_of(admin) == "clinics"
    assert parse_addresses(admin).redacted() == (
        "amqp://admin:***@rabbit-0:5672/clinics,amqp://admin:***@rabbit-1/clinics,amqp://admin:***@rabbit-2/clinics"
    )
