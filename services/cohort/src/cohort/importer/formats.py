"""UK formats as people type them: postcodes, phone numbers, email addresses and dates."""

from __future__ import annotations

import re
from datetime import date

# re.ASCII so that \d never accepts non-ASCII digits that int() would silently convert.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
# Digit positions also take I and O, which people type for 1 and 0 (the real service accepts "st1 oqs").
_POSTCODE = re.compile(r"([A-Z]{1,2})([0-9IO])([0-9A-Z]?)([0-9IO])([A-Z]{2})", re.ASCII)
_POSTCODE_DIGITS = {"I": "1", "O": "0"}
_WHITESPACE = re.compile(r"\s+")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]+")
_PHONE_NATIONAL_LENGTHS: dict[str, tuple[int, ...]] = {
    "1": (9, 10),
    "2": (10,),
    "3": (10,),
    "5": (9, 10),
    "7": (10,),
    "8": (9, 10),
}
_EMAIL = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})",
    re.ASCII,
)


def normalise_postcode(raw: str) -> str | None:
    """Return ``raw`` as an upper-case UK postcode such as "SW1A 1AA", or None if it is not one."""
    compact = _WHITESPACE.sub("", raw).upper()
    if compact == "GIR0AA":
        return "GIR 0AA"
    match = _POSTCODE.fullmatch(compact)
    if match is None:
        return None
    area, district, district_suffix, sector, unit = match.groups()
    district = _POSTCODE_DIGITS.get(district, district)
    sector = _POSTCODE_DIGITS.get(sector, sector)
    return f"{area}{district}{district_suffix} {sector}{unit}"


def _national_digits(number: str) -> str | None:
    if number.startswith("+"):
        return number[3:] if number.startswith("+44") else None
    if number.startswith("0044"):
        return number[4:]
    if number.startswith("44") and len(number) >= 11:
        return number[2:]
    if number.startswith("0"):
        return number[1:]
    # Spreadsheets often drop the leading zero of a number stored as a number.
    return number


def normalise_phone(raw: str) -> str | None:
    """Return ``raw`` as a UK national phone number such as "07412345678", or None if it is not one."""
    national = _national_digits(_PHONE_PUNCTUATION.sub("", raw))
    if national is None:
        return None
    if national.startswith("0"):
        # "+44 (0)7700 900982" keeps a trunk zero after the country code.
        national = national[1:]
    if not national.isascii() or not national.isdigit():
        return None
    # Mobiles (7) and 02/03 numbers have ten national digits; some 01 areas and 05/08 numbers have nine.
    allowed_lengths = _PHONE_NATIONAL_LENGTHS.get(national[0])
    if allowed_lengths is None or len(national) not in allowed_lengths:
        return None
    return "0" + national


def is_valid_email(email: str) -> bool:
    if len(email) > 320 or ".." in email:
        return False
    if _EMAIL.fullmatch(email) is None:
        return False
    return len(email.rpartition("@")[2]) <= 253


def parse_date(value: str) -> date | None:
    """A date written YYYY-MM-DD or DD/MM/YYYY, or None if it is neither or no such day exists."""
    match = _ISO_DATE.fullmatch(value)
    if match is not None:
        year, month, day = match.groups()
    else:
        match = _UK_DATE.fullmatch(value)
        if match is None:
            return None
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
