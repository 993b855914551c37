"""UK formats as people type them: postcodes, phone numbers, email addresses and dates."""

from __future__ import annotations

import re
from datetime import date

from contracts.phone import parse_uk_phone

# re.ASCII so that \d never accepts non-ASCII digits that int() would silently convert.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
# Digit positions also take I and O, which people type for 1 and 0 (the real service accepts "st1 oqs").
_POSTCODE = re.compile(r"([A-Z]{1,2})([0-9IO])([0-9A-Z]?)([0-9IO])([A-Z]{2})", re.ASCII)
_POSTCODE_DIGITS = {"I": "1", "O": "0"}
_WHITESPACE = re.compile(r"\s+")
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


def normalise_phone(raw: str) -> str | None:
    """Return ``raw`` as a UK national phone number such as "07412345678", or None if it is not one.

    Mobiles and landlines alike (contracts.phone says which); whether a text may go to it is notify's
    business at send time.
    """
    parsed = parse_uk_phone(raw)
    return parsed[0] if parsed is not None else None


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
