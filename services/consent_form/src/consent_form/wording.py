"""The words pages use for the contract's values (Mavis's wording where it has some)."""

from __future__ import annotations

from datetime import date
from typing import Final

from contracts.common import Programme

PROGRAMME_NAMES: Final = {
    Programme.FLU: "flu",
    Programme.HPV: "HPV",
    Programme.MENACWY: "MenACWY",
    Programme.TD_IPV: "Td/IPV (3-in-1 teenage booster)",
    Programme.MMR: "MMR",
}

# Mavis's reasons, in its order, and the title of each reason's details page.
REFUSAL_REASONS: Final = {
    "contains_gelatine": "I’m concerned the vaccine contains gelatine",
    "already_vaccinated": "Vaccine already received",
    "will_be_vaccinated_elsewhere": "Vaccine will be given elsewhere",
    "medical_reasons": "Medical reasons",
    "personal_choice": "Personal choice",
    "other": "Other",
}
REFUSAL_HINTS: Final = {"will_be_vaccinated_elsewhere": "For example, you’ve booked your child into a clinic"}
NOTES_TITLES: Final = {
    "already_vaccinated": "When and where did your child get their vaccination?",
    "will_be_vaccinated_elsewhere": "When and where will your child get their vaccination?",
    "medical_reasons": "What medical reasons prevent your child from being vaccinated?",
    "other": "Tell us why you don’t agree",
}
FOLLOW_UP_HINTS: Final = {
    "contains_gelatine": "For example, it may be possible to use a vaccine that does not contain gelatine.",
    "medical_reasons": "We understand alternatives might not be suitable in some cases.",
}
CHOICES: Final = {
    "nasal": "Yes, the nasal spray",
    "injection": "Yes, the injection only",
    "yes": "Yes, I agree",
    "no": "No",
}


def programme_name(programme: Programme | str) -> str:
    return PROGRAMME_NAMES.get(Programme(programme), str(programme))


def choice_label(choice: str) -> str:
    return CHOICES.get(choice, choice)


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
