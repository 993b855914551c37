"""NHS numbers: the one home of the modulus-11 check digit, for the services, the clients and test data alike."""

from __future__ import annotations

from operator import mul

__all__ = ["check_digit", "is_valid_nhs_number", "normalise_nhs_number", "with_check_digit"]

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_nhs_number(raw: str) -> str:
    """`raw` without any whitespace (people write "999 000 0026")."""
    return "".join(raw.split())


def check_digit(stem: str) -> int | None:
    """The check digit of nine ASCII digits, or None where no NHS number has this stem (remainder 10)."""
    total: int = sum(map(mul, map(int, stem), _WEIGHTS))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def is_valid_nhs_number(value: str) -> bool:
    """True if `value` is 10 ASCII digits ending in the right check digit."""
    # isdigit() alone accepts non-ASCII digits such as Arabic-Indic ones.
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def with_check_digit(stem: int) -> str | None:
    """The NHS number whose first nine digits are `stem` (below 10**9), or None where that stem has none.

    Test data and demos make numbers with this: distinct stems give distinct numbers.
    """
    digits = f"{stem:09d}"
    check = check_digit(digits)
    return None if check is None else digits + str(check)
