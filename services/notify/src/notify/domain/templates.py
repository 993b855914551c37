"""Message templates: kinds, channels, per-team (ODS) overrides, personalisation and rendering."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    CLINIC_INITIAL_INVITATION = "clinic_initial_invitation"
    CLINIC_SUBSEQUENT_INVITATION = "clinic_subsequent_invitation"
    CONSENT_CLINIC_REQUEST = "consent_clinic_request"
    CONSENT_CONFIRMATION_GIVEN = "consent_confirmation_given"
    CONSENT_CONFIRMATION_REFUSED = "consent_confirmation_refused"
    CONSENT_CONFIRMATION_TRIAGE = "consent_confirmation_triage"
    CONSENT_UNKNOWN_CONTACT_DETAILS = "consent_unknown_contact_details_warning"


INVITATION_KINDS = frozenset({MessageKind.CLINIC_INITIAL_INVITATION, MessageKind.CLINIC_SUBSEQUENT_INVITATION})
# Messages that answer something a parent just did (archiving the child does not stop them).
CONFIRMATION_KINDS = frozenset(
    {
        MessageKind.CONSENT_CONFIRMATION_GIVEN,
        MessageKind.CONSENT_CONFIRMATION_REFUSED,
        MessageKind.CONSENT_CONFIRMATION_TRIAGE,
        MessageKind.CONSENT_UNKNOWN_CONTACT_DETAILS,
    }
)
# Personalisation a person typed (a parent on the consent form, or the cohort file's names): GOV.UK Notify
# is asked to sanitise them (`sanitise_content_for`, client 12.1+) so "[click](https://evil.example)" stays text.
TYPED_FIELDS = ("child_full_name", "child_first_name", "parent_full_name")


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class UnknownTemplate(LookupError):
    """No template, neither the team's override nor a generic one, for a kind and channel."""

    def __init__(self, kind: MessageKind, channel: Channel, ods_code: str | None) -> None:
        super().__init__(f"no template for {kind}/{channel} (ODS {ods_code or '-'})")
        self.kind = kind
        self.channel = channel
        self.ods_code = ods_code


class MissingPersonalisation(LookupError):
    """A template placeholder has no value in the personalisation."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(set(names)))
        super().__init__(f"missing personalisation: {', '.join(self.names)}")


@dataclass(frozen=True, slots=True)
class Template:
    """One template as registered with GOV.UK Notify; `ods_code` None means the generic one."""

    id: str
    kind: MessageKind
    channel: Channel
    body: str
    subject: str | None = None
    ods_code: str | None = None

    @property
    def name(self) -> str:
        """Mavis-style name: ``clinic_initial_invitation`` or ``clinic_initial_invitation_ryg``."""
        return self.kind.value if self.ods_code is None else f"{self.kind}_{self.ods_code.lower()}"


_Key = tuple[MessageKind, Channel, str | None]


def _ods(ods_code: str | None) -> str | None:
    return ods_code.strip().upper() if ods_code else None


class TemplateCatalogue:
    """Templates keyed by (kind, channel, ODS code or None); the team's override wins."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self._by_key: dict[_Key, Template] = {}
        self._by_id: dict[str, Template] = {}
        for template in templates:
            key = (template.kind, template.channel, _ods(template.ods_code))
            if key in self._by_key or template.id in self._by_id:
                raise ValueError(f"duplicate template {template.name}/{template.channel}")
            self._by_key[key] = template
            self._by_id[template.id] = template

    def resolve(self, kind: MessageKind, channel: Channel, ods_code: str | None) -> Template:
        """The team's template for `ods_code` if there is one, else the generic template."""
        ods = _ods(ods_code)
        if ods is not None and (found := self._by_key.get((kind, channel, ods))) is not None:
            return found
        if (found := self._by_key.get((kind, channel, None))) is not None:
            return found
        raise UnknownTemplate(kind, channel, ods_code)

    def by_id(self, template_id: str) -> Template:
        try:
            return self._by_id[template_id]
        except KeyError:
            raise LookupError(f"no template with id {template_id}") from None

    def __iter__(self) -> Iterator[Template]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


_PROGRAMME_NAMES = {
    "flu": "flu",
    "hpv": "HPV",
    "menacwy": "MenACWY",
    "mmr": "MMR",
    "mmrv": "MMRV",
    "td_ipv": "Td/IPV",
}


def programmes_text(programmes: Iterable[str]) -> str:
    """Programme names as prose, in the order given: "flu", "HPV and flu", "HPV, MenACWY and flu"."""
    names = list(dict.fromkeys(_PROGRAMME_NAMES.get(p.lower(), p) for p in programmes))
    if not names:
        raise ValueError("at least one programme is required")
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def personalisation(
    *,
    child_given_name: str,
    child_family_name: str,
    programmes: Iterable[str],
    team_name: str,
    team_email: str,
    team_phone: str,
    booking_link: str,
    consent_form_link: str | None = None,
    parent_name: str | None = None,
    follow_up_requested: bool = False,
) -> dict[str, str]:
    """The personalisation every template kind may use (GOV.UK Notify ignores unused keys)."""
    return {
        # Issue 20: the consent request's form link, and what a confirmation of an online response says.
        "consent_form_link": consent_form_link or team_phone,
        "parent_full_name": parent_name or "parent or guardian",
        "follow_up_sentence": FOLLOW_UP_SENTENCE.replace("((team_name))", team_name) if follow_up_requested else "",
        "child_full_name": f"{child_given_name} {child_family_name}".strip(),
        "child_first_name": child_given_name,
        "programmes": programmes_text(programmes),
        "team_name": team_name,
        "team_email": team_email,
        "team_phone": team_phone,
        "booking_link": booking_link,
    }


FOLLOW_UP_SENTENCE = "You asked to talk to someone about this. Someone from ((team_name)) will contact you soon."


def sanitised_fields(values: Mapping[str, str]) -> list[str]:
    """The personalisation keys Notify must treat as plain text (`sanitise_content_for`)."""
    return [k for k in TYPED_FIELDS if k in values]


_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
_KEY_STRIP = str.maketrans("", "", " _-")


@functools.lru_cache(maxsize=4096)  # the same few placeholder and personalisation names, a million times
def _key(name: str) -> str:
    # Notify matches placeholders case-insensitively, ignoring spaces, underscores and hyphens.
    return name.translate(_KEY_STRIP).lower()


def render_text(text: str, values: Mapping[str, str]) -> str:
    """Replace every ((placeholder)) in `text`; raises MissingPersonalisation if any has no value."""
    lookup = {_key(k): v for k, v in values.items()}
    missing = [m for m in _PLACEHOLDER.findall(text) if _key(m) not in lookup]
    if missing:
        raise MissingPersonalisation(missing)
    return _PLACEHOLDER.sub(lambda m: lookup[_key(m.group(1))], text)


def render(template: Template, values: Mapping[str, str]) -> str:
    """The template's body with its placeholders filled (as Notify would, without markdown)."""
    return render_text(template.body, values)


def render_subject(template: Template, values: Mapping[str, str]) -> str | None:
    return None if template.subject is None else render_text(template.subject, values)
