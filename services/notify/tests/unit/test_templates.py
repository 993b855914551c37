"""Template catalogue: team (ODS) overrides, generic fallback, personalisation and rendering."""

from __future__ import annotations

import re

import pytest

from notify.domain.default_templates import default_catalogue
from notify.domain.templates import (
    Channel,
    MessageKind,
    MissingPersonalisation,
    Template,
    TemplateCatalogue,
    UnknownTemplate,
    personalisation,
    programmes_text,
    render,
    render_subject,
    sanitised_fields,
)

pytestmark = pytest.mark.unit

CATALOGUE = default_catalogue()


def make_personalisation(**overrides: object) -> dict[str, str]:
    fields: dict[str, object] = {
        "child_given_name": "Ada",
        "child_family_name": "Lovelace",
        "programmes": ["hpv", "flu"],
        "team_name": "Example SAIS team",
        "team_email": "sais@example.nhs.uk",
        "team_phone": "01234 567890",
        "booking_link": "https://book.example/clinic",
    }
    fields.update(overrides)
    return personalisation(**fields)  # type: ignore[arg-type]


def test_team_override_is_used_for_its_ods_code() -> None:
    template = CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.EMAIL, "RYG")
    assert template.ods_code == "RYG"
    assert template.name == "clinic_initial_invitation_ryg"
    assert "SwiftQueue" in template.body


def test_ods_code_is_matched_case_insensitively() -> None:
    assert CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.SMS, "rt5").ods_code == "RT5"


def test_team_without_override_for_the_kind_falls_back_to_generic() -> None:
    template = CATALOGUE.resolve(MessageKind.CLINIC_SUBSEQUENT_INVITATION, Channel.EMAIL, "RT5")
    assert template.ods_code is None
    assert template.name == "clinic_subsequent_invitation"


@pytest.mark.parametrize("ods_code", [None, "", "R1L"])
def test_unknown_or_no_team_gets_generic(ods_code: str | None) -> None:
    template = CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.EMAIL, ods_code)
    assert template.ods_code is None


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("channel", list(Channel))
def test_every_kind_and_channel_has_a_generic_template(kind: MessageKind, channel: Channel) -> None:
    template = CATALOGUE.resolve(kind, channel, None)
    assert (template.kind, template.channel) == (kind, channel)
    assert (template.subject is not None) == (channel is Channel.EMAIL)


def test_missing_template_raises_unknown_template() -> None:
    catalogue = TemplateCatalogue([CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.SMS, None)])
    with pytest.raises(UnknownTemplate) as raised:
        catalogue.resolve(MessageKind.CONSENT_CLINIC_REQUEST, Channel.SMS, "RYG")
    assert raised.value.kind is MessageKind.CONSENT_CLINIC_REQUEST


def test_unknown_kind_is_not_a_message_kind() -> None:
    with pytest.raises(ValueError, match="not a valid MessageKind"):
        MessageKind("clinic_reminder")


def test_duplicate_templates_are_refused() -> None:
    template = Template(id="a", kind=MessageKind.CLINIC_INITIAL_INVITATION, channel=Channel.SMS, body="x")
    with pytest.raises(ValueError, match="duplicate"):
        TemplateCatalogue([template, Template(id="b", kind=template.kind, channel=template.channel, body="y")])


def test_template_ids_are_unique_uuids_and_findable() -> None:
    ids = [t.id for t in CATALOGUE]
    assert len(set(ids)) == len(ids) == 20
    for template_id in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", template_id)
        assert CATALOGUE.by_id(template_id).id == template_id


def test_personalisation_has_every_field() -> None:
    assert make_personalisation() == {
        "child_full_name": "Ada Lovelace",
        "child_first_name": "Ada",
        "programmes": "HPV and flu",
        "team_name": "Example SAIS team",
        "team_email": "sais@example.nhs.uk",
        "team_phone": "01234 567890",
        "booking_link": "https://book.example/clinic",
        "consent_form_link": "01234 567890",
        "parent_full_name": "parent or guardian",
        "follow_up_sentence": "",
    }


def test_a_consent_request_carries_its_form_link() -> None:
    values = make_personalisation(consent_form_link="https://form.example/consent/c1.abc.def")
    for channel in Channel:
        template = CATALOGUE.resolve(MessageKind.CONSENT_CLINIC_REQUEST, channel, None)
        assert "https://form.example/consent/c1.abc.def" in render(template, values)


def test_a_refusal_asking_for_a_call_says_the_team_will_call() -> None:
    template = CATALOGUE.resolve(MessageKind.CONSENT_CONFIRMATION_REFUSED, Channel.EMAIL, None)
    asked = render(template, make_personalisation(follow_up_requested=True))
    assert "Someone from Example SAIS team will contact you soon." in asked
    assert "will contact you" not in render(template, make_personalisation())


def test_typed_names_are_the_fields_notify_sanitises() -> None:
    values = make_personalisation(parent_name="[click](https://evil.example)")
    assert sanitised_fields(values) == ["child_full_name", "child_first_name", "parent_full_name"]
    template = CATALOGUE.resolve(MessageKind.CONSENT_CONFIRMATION_TRIAGE, Channel.EMAIL, None)
    assert "((parent_full_name))" in template.body  # the typed name reaches Notify only as personalisation


@pytest.mark.parametrize(
    ("programmes", "text"),
    [
        (["flu"], "flu"),
        (["hpv", "flu"], "HPV and flu"),
        (["hpv", "menacwy", "td_ipv"], "HPV, MenACWY and Td/IPV"),
        (["flu", "flu", "mmr"], "flu and MMR"),
        (["polio"], "polio"),
    ],
)
def test_programmes_read_as_prose(programmes: list[str], text: str) -> None:
    assert programmes_text(programmes) == text


def test_programmes_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        programmes_text([])


def test_render_fills_placeholders() -> None:
    template = CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.SMS, None)
    text = render(template, make_personalisation())
    assert text.startswith("Ada can have their HPV and flu vaccination")
    assert "https://book.example/clinic" in text
    assert "((" not in text


def test_render_matches_placeholders_like_notify() -> None:
    template = Template(
        id="t", kind=MessageKind.CLINIC_INITIAL_INVITATION, channel=Channel.SMS, body="Hi ((Child First-Name))"
    )
    assert render(template, {"child_first_name": "Ada"}) == "Hi Ada"


def test_render_raises_on_missing_personalisation() -> None:
    template = CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.EMAIL, "RYG")
    values = make_personalisation()
    del values["booking_link"]
    with pytest.raises(MissingPersonalisation) as raised:
        render(template, values)
    assert raised.value.names == ("booking_link",)


@pytest.mark.parametrize("template", list(CATALOGUE), ids=lambda t: f"{t.name}-{t.channel}")
def test_every_default_template_renders_from_personalisation(template: Template) -> None:
    values = make_personalisation()
    assert "((" not in render(template, values)
    subject = render_subject(template, values)
    assert subject is None or "((" not in subject
