"""Checks of single answers, each returning the cleaned value or raising FieldError with the page's words."""

from __future__ import annotations

import re
from datetime import date

from pydantic import EmailStr, TypeAdapter, ValidationError

from contracts.common import control_character_in
from contracts.phone import parse_uk_phone

NAME_MAX = 300
NOTES_MAX = 1000
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
# The shape of a UK postcode (outward code, space, inward code), as people type it in any case.
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


class FieldError(ValueError):
    """An answer the page refuses; the message is shown beside the field and in the error summary."""


def text(value: str, *, missing: str, too_long: str, limit: int = NAME_MAX, multiline: bool = False) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise FieldError(missing)
    if len(cleaned) > limit:
        raise FieldError(too_long)
    if multiline:
        cleaned = cleaned.replace("\r\n", "\n")
        checked = cleaned.replace("\n", " ").replace("\t", " ")
    else:
        checked = cleaned
    if control_character_in(checked) is not None:
        raise FieldError("Remove the hidden formatting characters (copied text sometimes carries them)")
    return cleaned


def optional_text(value: str, *, too_long: str, limit: int = NAME_MAX) -> str | None:
    return text(value, missing="", too_long=too_long, limit=limit) if value.strip() else None


def choice(value: str, allowed: tuple[str, ...] | frozenset[str], *, missing: str) -> str:
    if value not in allowed:
        raise FieldError(missing)
    return value


def date_of_birth(day: str, month: str, year: str, *, today: date) -> date:
    parts = (day.strip(), month.strip(), year.strip())
    if not any(parts):
        raise FieldError("Enter your child’s date of birth")
    if not all(p.isdigit() for p in parts):
        raise FieldError("Date of birth must be a real date, for example 27 3 2015")
    try:
        born = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise FieldError("Date of birth must be a real date, for example 27 3 2015") from None
    if born > today:
        raise FieldError("Date of birth must be in the past")
    if today.year - born.year > 22 or born.year < 1900:
        raise FieldError("Check the year: your child must be under 22")
    return born


def email(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise FieldError("Enter your email address")
    if len(cleaned) > 254 or control_character_in(cleaned) is not None:
        raise FieldError("Enter an email address in the correct format, like name@example.com")
    try:
        return _EMAIL.validate_python(cleaned)
    except ValidationError:
        raise FieldError("Enter an email address in the correct format, like name@example.com") from None


def phone(value: str, *, required: bool) -> str | None:
    if not value.strip():
        if required:
            raise FieldError("Enter a mobile phone number to get updates by text message")
        return None
    parsed = parse_uk_phone(value[:40])
    if parsed is None:
        raise FieldError("Enter a UK phone number, like 07700 900 982 or 01632 960 001")
    return parsed[0]


def postcode(value: str) -> str:
    cleaned = " ".join(value.upper().split())
    if not cleaned:
        raise FieldError("Enter a postcode")
    found = _POSTCODE.match(cleaned)
    if found is None:
        raise FieldError("Enter a full UK postcode, like LS1 4AP")
    return f"{found.group(1)} {found.group(2)}"
