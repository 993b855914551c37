"""NHS number normalisation and modulus-11 check-digit validation."""

from __future__ import annotations

from operator import mul

__all__ = ["is_valid_nhs_number", "normalise_nhs_number"]

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_nhs_number(raw: str) -> str:
    """Return ``raw`` without any whitespace (people write "999 000 0026")."""
    return "".join(raw.split())


def is_valid_nhs_number(value: str) -> bool:
    """Return True if ``value`` is 10 ASCII digits with a correct modulus-11 check digit."""
    # isdigit() alone accepts non-ASCII digits such as Arabic-Indic ones.
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    total: int = sum(map(mul, map(int, value[:9]), _WEIGHTS))
    check = 11 - total % 11
    if check == 11:
        check = 0
    # A remainder giving 10 means no valid check digit exists for these nine digits.
    return check != 10 and check == int(value[9])
