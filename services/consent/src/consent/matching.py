"""Who an online response is about, and whether its parent is one on record: keys compared, not the details.

Consent keeps no names, birth dates, postcodes or contact details of its own: it keeps a hash of each child's
normalised first name, last name, date of birth and postcode, and of each parent's email address and phone
number, which is all that matching a response needs (an exact match after normalising).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from contracts.phone import parse_uk_phone

# Apostrophes and hyphens as keyboards and phones type them (O’Brien, O'Brien, Smith‐Jones).
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛`´ʼʹ′", "'") | dict.fromkeys("‐‑‒–—―", "-"))
_SPACES = re.compile(r"\s+")


def normal_name(name: str) -> str:
    """A name as compared: Unicode NFKC, one kind of apostrophe and hyphen, single spaces, any case."""
    text = unicodedata.normalize("NFKC", name).translate(_APOSTROPHES)
    return _SPACES.sub(" ", text).strip().casefold()


def normal_postcode(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def child_key(first_name: str, last_name: str, date_of_birth: date, postcode: str | None) -> str | None:
    """The key a response and a child are matched on; None without a postcode (never matched automatically)."""
    if not postcode or not normal_postcode(postcode):
        return None
    parts = (normal_name(first_name), normal_name(last_name), date_of_birth.isoformat(), normal_postcode(postcode))
    return _digest("child", *parts)


def email_key(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    return _digest("email", email.strip().casefold())


def phone_key(phone: str | None) -> str | None:
    if not phone or not phone.strip():
        return None
    parsed = parse_uk_phone(phone)
    digits = parsed[0] if parsed else "".join(ch for ch in phone if ch.isdigit())
    return _digest("phone", digits)
