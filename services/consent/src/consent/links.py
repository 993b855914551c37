"""Consent-form link tokens: signed, so only consent can make one, and naming a request or a team's year.

A token is `c1.<payload>.<signature>` in URL-safe base64 without padding. The payload names a consent request
(`r` + its id, a random UUID) or a team's generic link (`t` + academic year + ODS code); the signature is
HMAC-SHA256 (first 16 bytes) over the version and payload under the first of the configured secrets, and any
of them is accepted, so a secret can be rotated by putting the new one first and dropping the old one when the
links it signed have expired. A token expires with the consent window of what it names, which is checked
against the current clinic dates when it is used, so a later clinic date keeps links working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

VERSION = "c1"
_SIGNATURE_BYTES = 16


@dataclass(frozen=True, slots=True)
class RequestLink:
    request_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TeamLink:
    team_ods: str
    academic_year: int


Link = RequestLink | TeamLink


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), VERSION.encode() + b"." + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _payload(link: Link) -> bytes:
    if isinstance(link, RequestLink):
        return b"r" + link.request_id.bytes
    return b"t" + link.academic_year.to_bytes(2, "big") + link.team_ods.encode("ascii")


def sign(link: Link, secrets: Sequence[str]) -> str:
    """A token for `link`, signed with the first (current) secret."""
    payload = _payload(link)
    return f"{VERSION}.{_b64(payload)}.{_b64(_signature(secrets[0], payload))}"


def _parse(payload: bytes) -> Link | None:
    if payload[:1] == b"r" and len(payload) == 17:
        return RequestLink(uuid.UUID(bytes=payload[1:]))
    if payload[:1] == b"t" and 5 <= len(payload) <= 13 and payload[3:].isalnum():
        return TeamLink(payload[3:].decode("ascii"), int.from_bytes(payload[1:3], "big"))
    return None


def verify(token: str, secrets: Sequence[str]) -> Link | None:
    """What a token names, or None if consent did not sign it (with any secret still accepted)."""
    version, _, rest = token.partition(".")
    encoded, _, signature = rest.partition(".")
    if version != VERSION or not encoded or not signature:
        return None
    try:
        payload, given = _unb64(encoded), _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    if _b64(payload) != encoded or not any(hmac.compare_digest(given, _signature(s, payload)) for s in secrets):
        return None  # a second encoding of the same bytes is refused too, so each link has one spelling
    return _parse(payload)
