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

# Apostrophes and hyphens as keyboards and phones type them (O’Brien, O'Brien, Smith‐Jones).
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛`´ʼʹ′", "'") | dict.fromkeys("‐‑‒–—―", "-"))
_NOT_DIGITS = re.compile(r"\D")


def normal_name(name: str) -> str:
    """A name as compared: Unicode NFKC, one kind of apostrophe and hyphen, single spaces, any case."""
    # Most names are ASCII, and NFKC and the table change nothing in them but a backtick (every import runs this).
    text = name.replace("`", "'") if name.isascii() else unicodedata.normalize("NFKC", name).translate(_APOSTROPHES)
    return " ".join(text.split()).casefold()


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


def national_digits(phone: str) -> str:
    """A UK number's digits as dialled at home (+44 7700 900123 -> 07700900123); others' digits as they are.

    Cheap on purpose: it runs for every parent of every imported child (phonenumbers costs ~50 us a number).
    """
    digits = _NOT_DIGITS.sub("", phone)
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 9:
            rest = digits[len(prefix) :]
            return rest if rest.startswith("0") else "0" + rest
    return digits


def phone_key(phone: str | None) -> str | None:
    if not phone or not phone.strip():
        return None
    return _digest("phone", national_digits(phone))
