"""Unit tests for NHS number normalisation and check-digit validation."""

from __future__ import annotations

import pytest

from contracts.nhs_number import is_valid_nhs_number, normalise_nhs_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    [
        "9990000018",
        "9990000026",
        "9733576468",
        # Labelled "wrong NHS number" in the Mavis ISO-8859-1 fixture, but its check digit is correct:
        # 9*10 + 9*9 + 9*8 + 1*7 + 5*6 + 6*5 + 9*4 + 1*3 + 4*2 = 357; 357 % 11 = 5; 11 - 5 = 6.
        "9991569146",
        "9733576506",
        "9766515018",
        "9686905561",
        "9733576999",
    ],
)
def test_valid_check_digit(value: str) -> None:
    assert is_valid_nhs_number(value)


def test_check_digit_eleven_becomes_zero() -> None:
    # 2*10 + 1*2 = 22; 22 % 11 = 0; 11 - 0 = 11, which the algorithm turns into check digit 0.
    assert is_valid_nhs_number("2000000010")
    assert not is_valid_nhs_number("2000000011")


def test_remainder_giving_ten_is_never_valid() -> None:
    # 1*10 + 1*2 = 12; 12 % 11 = 1; 11 - 1 = 10, which no single check digit can match.
    for last in "0123456789":
        assert not is_valid_nhs_number("100000001" + last)


@pytest.mark.parametrize(
    "value",
    [
        "9990000019",  # wrong check digit
        "9990000027",  # wrong check digit
        "999000001",  # nine digits
        "99900000188",  # eleven digits
        "999000001A",
        "999 000 0018",  # spaces must be removed by normalise_nhs_number first
        "",
        "\u0669\u0669\u0669\u0660\u0660\u0660\u0660\u0660\u0661\u0668",  # Arabic-Indic digits
    ],
)
def test_invalid(value: str) -> None:
    assert not is_valid_nhs_number(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("999 000 0026", "9990000026"),
        (" 9990000026 ", "9990000026"),
        ("999\t000\u00a00026", "9990000026"),
        ("", ""),
    ],
)
def test_normalise_removes_whitespace(raw: str, expected: str) -> None:
    assert normalise_nhs_number(raw) == expected


def test_a_stem_with_a_check_digit_makes_a_valid_number_and_one_without_makes_none() -> None:
    from contracts.nhs_number import with_check_digit

    made = [with_check_digit(stem) for stem in range(900_000_000, 900_000_100)]
    assert all(is_valid_nhs_number(n) for n in made if n is not None)
    assert len({n for n in made if n is not None}) == sum(n is not None for n in made)
    assert with_check_digit(900_000_002) == "9000000025"
    assert None in made  # about one stem in eleven has no check digit
