"""Request checks the GOV.UK Notify stub shares with real Notify: JWT auth and payload validation."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import jwt

CLOCK_SKEW = 30  # seconds, as Notify allows


class AuthFailure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TokenVerifier:
    """Checks ``Authorization: Bearer <JWT>`` as Notify does (HS256, iss = service id, iat ±30 s).

    Signatures are verified once per distinct token (clients reuse one for a second or so); the
    clock check runs on every request.
    """

    def __init__(self, api_key: str) -> None:
        self.service_id, self.secret = api_key[-73:-37], api_key[-36:]
        uuid.UUID(self.service_id)
        uuid.UUID(self.secret)
        self._verified: dict[str, int] = {}

    def check(self, authorization: str | None, now: float | None = None) -> None:
        if not authorization:
            raise AuthFailure(401, "Unauthorized: authentication token must be provided")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthFailure(401, "Unauthorized: authentication bearer scheme must be used")
        token = token.strip()
        iat = self._verified.get(token)
        if iat is None:
            iat = self._verify(token)
            if len(self._verified) > 1024:
                self._verified.clear()
            self._verified[token] = iat
        current = time.time() if now is None else now
        if abs(current - iat) > CLOCK_SKEW:
            raise AuthFailure(403, "Error: Your system clock must be accurate to within 30 seconds")

    def _verify(self, token: str) -> int:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_iat": False, "require": ["iss", "iat"]},
            )
        except jwt.InvalidTokenError:
            raise AuthFailure(403, "Invalid token: API key not found") from None
        if claims["iss"] != self.service_id:
            raise AuthFailure(403, "Invalid token: service not found")
        if not isinstance(claims["iat"], int):
            raise AuthFailure(403, "Invalid token: iat is not an integer")
        return claims["iat"]


_EMAIL = re.compile(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$")
_PHONE_JUNK = re.compile(r"[\s\-().]")

_REQUIRED = {"email": ("email_address", "template_id"), "sms": ("phone_number", "template_id")}
_OPTIONAL = {
    "email": {
        "personalisation",
        "reference",
        "email_reply_to_id",
        "one_click_unsubscribe_url",
        "sanitise_content_for",
    },
    "sms": {"personalisation", "reference", "sms_sender_id"},
}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def valid_phone(number: str) -> bool:
    """A UK mobile (07..., +447..., 00447...) or a plausible international number (8-15 digits)."""
    digits = _PHONE_JUNK.sub("", number)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit():
        return False
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    if digits.startswith("07"):
        return len(digits) == 11
    return not digits.startswith("0") and 8 <= len(digits) <= 15


def validate_send(channel: str, payload: Any) -> list[str]:
    """Notify-style ValidationError messages for a send request body; empty when valid."""
    if not isinstance(payload, dict):
        return ["JSON body must be an object"]
    errors = [f"{name} is a required property" for name in _REQUIRED[channel] if name not in payload]
    allowed = set(_REQUIRED[channel]) | _OPTIONAL[channel]
    errors += [f"Additional properties are not allowed ({k} was unexpected)" for k in payload if k not in allowed]
    if "template_id" in payload and not _is_uuid(payload["template_id"]):
        errors.append("template_id is not a valid UUID")
    if "email_reply_to_id" in payload and not _is_uuid(payload["email_reply_to_id"]):
        errors.append("email_reply_to_id is not a valid UUID")
    if "email_address" in payload and not (
        isinstance(payload["email_address"], str) and _EMAIL.match(payload["email_address"])
    ):
        errors.append("email_address Not a valid email address")
    if "phone_number" in payload and not (
        isinstance(payload["phone_number"], str) and valid_phone(payload["phone_number"])
    ):
        errors.append("phone_number Not a UK mobile number")
    if not isinstance(payload.get("personalisation", {}), dict):
        errors.append("personalisation is not of type object")
    sanitised = payload.get("sanitise_content_for", [])
    if not isinstance(sanitised, list) or not all(isinstance(k, str) for k in sanitised):
        errors.append("sanitise_content_for is not an array of strings")
    reference = payload.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 1000):
        errors.append("reference must be a string of at most 1000 characters")
    return errors
