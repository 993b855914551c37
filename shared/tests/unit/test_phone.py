"""contracts.phone: UK numbers as people type them, and which of them can be sent a text."""

from __future__ import annotations

import pytest

from contracts.phone import PhoneKind, is_mobile, parse_uk_phone

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "stored", "kind"),
    [
        ("07412 345678", "07412345678", PhoneKind.MOBILE),
        ("+44 (0)7412 345678", "07412345678", PhoneKind.MOBILE),
        ("447412345678", "07412345678", PhoneKind.MOBILE),
        ("7412345678", "07412345678", PhoneKind.MOBILE),  # a spreadsheet dropped the zero
        ("07700 900982", "07700900982", PhoneKind.MOBILE),  # Ofcom's drama range
        ("07700 912345", "07700912345", PhoneKind.MOBILE),
        ("0113 496 0123", "01134960123", PhoneKind.LANDLINE),
        ("01632 960001", "01632960001", PhoneKind.LANDLINE),
        ("020-7946-0000", "02079460000", PhoneKind.LANDLINE),
        ("0300 123 4567", "03001234567", PhoneKind.LANDLINE),
        ("0808 157 0192", "08081570192", PhoneKind.LANDLINE),
    ],
)
def test_uk_numbers_are_stored_nationally_with_their_kind(text: str, stored: str, kind: PhoneKind) -> None:
    assert parse_uk_phone(text) == (stored, kind)


@pytest.mark.parametrize(
    "text",
    ["", "invalid", "0741234567", "074123456789", "+33 6 12 34 56 78", "09012345678", "07700 212345", "07412345678 x12",
     "０７４１２３４５６７８", "0" * 200],
)  # fmt: skip
def test_what_is_not_a_uk_number_people_can_be_reached_on(text: str) -> None:
    assert parse_uk_phone(text) is None


@pytest.mark.parametrize(
    ("text", "mobile"),
    [("07412 345678", True), ("+44 7700 900982", True), ("0113 496 0123", False), ("0300 123 4567", False),
     ("not a number", False), ("", False), (None, False)],
)  # fmt: skip
def test_only_a_mobile_may_be_sent_a_text(text: str | None, mobile: bool) -> None:
    assert is_mobile(text) is mobile
