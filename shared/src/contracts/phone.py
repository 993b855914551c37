"""UK phone numbers as people type them: the one place they are parsed (with Google's libphonenumber rules).

The cohort importer checks parents' numbers with it, and notify can tell a mobile (which may be sent a
text) from a landline (which never is) with the same answer.
"""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType

__all__ = ["PhoneKind", "is_mobile", "parse_uk_phone"]


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


_UK = 44
# Ofcom's numbers for drama and testing, which libphonenumber calls invalid but test data and staff
# examples use: the mobile range as the real service adds it to its own library (07700 9xxxxx).
_DRAMA = {
    PhoneKind.MOBILE: re.compile(r"77009\d{5}"),
    PhoneKind.LANDLINE: re.compile(r"1632960\d{3}"),
}
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE})
# Numbers a text can never reach; FIXED_LINE_OR_MOBILE does not occur in the UK plan.
_LANDLINE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.UAN,
        PhoneNumberType.VOIP,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.SHARED_COST,
    }
)
# A bound on what is worth parsing: the longest real number with its punctuation is far shorter.
_MAX_LENGTH = 40


def _national(text: str) -> int | None:
    if len(text) > _MAX_LENGTH or not text.isascii():
        return None
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != _UK or number.extension:
        return None
    return number.national_number


def _kind(national: int) -> PhoneKind | None:
    digits = str(national)
    for kind, pattern in _DRAMA.items():
        if pattern.fullmatch(digits):
            return kind
    number = phonenumbers.PhoneNumber(country_code=_UK, national_number=national)
    if not phonenumbers.is_valid_number(number):
        return None
    found = phonenumbers.number_type(number)
    if found in _MOBILE_TYPES:
        return PhoneKind.MOBILE
    # Premium rate, pagers and the like are no way to reach a parent.
    return PhoneKind.LANDLINE if found in _LANDLINE_TYPES else None


def parse_uk_phone(text: str) -> tuple[str, PhoneKind] | None:
    """A UK number as stored ("07412345678", "01134960123") and whether it is a mobile, or None.

    Accepts spaces, dashes, brackets, +44 or 0044 or 44, "+44 (0)", and a leading zero a spreadsheet
    dropped; refuses numbers of other countries, extensions, premium rate and numbers no one can dial.
    """
    national = _national(text.strip())
    if national is None:
        return None
    kind = _kind(national)
    return None if kind is None else (f"0{national}", kind)


def is_mobile(text: str | None) -> bool:
    """Whether a text message can reach this number: a UK mobile, never a landline or anything unparsed.

    GOV.UK Notify refuses texts to landlines, so notify sends none there (and a parent with a landline
    only and no email cannot be reached by notify at all).
    """
    parsed = parse_uk_phone(text) if text else None
    return parsed is not None and parsed[1] is PhoneKind.MOBILE
