"""What the online form asks per programme: the vaccine methods offered and the health questions (Mavis's wording).

Mavis words them in `lib/tasks/vaccines.rake` (`create_<programme>_health_questions`). Flu is offered as a
nasal spray, with an injection for children who cannot have it, so its form asks the nasal spray's questions
and the injection's own (a bleeding disorder); the other programmes' vaccines are injected.
"""

from __future__ import annotations

from contracts.consent import FormProgramme, HealthQuestion, VaccineMethod

_EXTRA_SUPPORT = HealthQuestion(
    question_id="extra_support",
    question="Does your child need extra support during vaccination sessions?",
    hint="For example, they’re autistic, or extremely anxious",
)
_SEVERE_ALLERGIES = HealthQuestion(
    question_id="severe_allergies", question="Does your child have any severe allergies?"
)
_OTHER_CONDITIONS = HealthQuestion(
    question_id="medical_conditions", question="Does your child have any other medical conditions we should know about?"
)
_BLEEDING_DISORDER = HealthQuestion(
    question_id="bleeding_disorder", question="Does your child have a bleeding disorder?"
)
_BLOOD_THINNING = HealthQuestion(
    question_id="blood_thinning",
    question="Does your child take blood-thinning medicine (anticoagulants)?",
    hint="For example, warfarin, or other medicine used to prevent blood clots",
)
_BLEEDING_OR_TREATED = HealthQuestion(
    question_id="bleeding_disorder_or_treatment",
    question="Does your child have a bleeding disorder or another medical condition they receive treatment for?",
)
_SEVERE_REACTION = HealthQuestion(
    question_id="severe_reaction",
    question="Has your child ever had a severe reaction to any medicines, including vaccines?",
)
_IMMUNE = "Does your child have a disease or treatment that severely affects their immune system?"

_FLU = (
    HealthQuestion(question_id="asthma", question="Has your child been diagnosed with asthma?"),
    HealthQuestion(
        question_id="asthma_steroids",
        question="Does your child take oral steroids for their asthma?",
        hint="This does not include medicine taken through an inhaler",
    ),
    HealthQuestion(
        question_id="asthma_intensive_care",
        question="Has your child ever been admitted to intensive care because of their asthma?",
        hint="This does not include visits to A&E or stays in hospital wards outside the intensive care unit",
    ),
    HealthQuestion(
        question_id="immune_system",
        question=_IMMUNE,
        hint="The nasal spray flu vaccine is a live vaccine. It is not suitable for people who are severely "
        "immunocompromised.",
    ),
    HealthQuestion(
        question_id="household_immune_system",
        question="Is your child in regular close contact with anyone currently having treatment that severely "
        "affects their immune system?",
    ),
    HealthQuestion(
        question_id="bleeding_disorder_anticoagulants",
        question="Does your child have a bleeding disorder or are they taking anticoagulant therapy?",
    ),
    HealthQuestion(
        question_id="egg_allergy",
        question="Has your child ever been admitted to intensive care due to a severe allergic reaction "
        "(anaphylaxis) to egg?",
        hint="This does not include visits to A&E or stays in hospital wards outside the intensive care unit",
    ),
    HealthQuestion(
        question_id="severe_allergic_reaction",
        question="Has your child had a severe allergic reaction (anaphylaxis) to a previous dose of the nasal flu "
        "vaccine, or any ingredient of the vaccine?",
        hint="This includes gelatine, neomycin or gentamicin",
    ),
    HealthQuestion(
        question_id="medical_conditions",
        question="Does your child have any other medical conditions the immunisation team should be aware of?",
    ),
    HealthQuestion(
        question_id="aspirin", question="Does your child take regular aspirin?", hint="Also known as Salicylate therapy"
    ),
    HealthQuestion(question_id="flu_previously", question="Has your child had a flu vaccination in the last 3 months?"),
    _EXTRA_SUPPORT,
)

_HPV = (
    _SEVERE_ALLERGIES,
    _BLEEDING_DISORDER,
    _BLOOD_THINNING,
    HealthQuestion(
        question_id="immune_system",
        question=_IMMUNE,
        hint="Children with a severely weakened immune system will need 3 doses of the vaccine, over a 12-month period",
    ),
    _OTHER_CONDITIONS,
    _EXTRA_SUPPORT,
)


def _previously(question_id: str, question: str, hint: str) -> HealthQuestion:
    return HealthQuestion(question_id=question_id, question=question, hint=hint)


_MENACWY = (
    _BLEEDING_OR_TREATED,
    _SEVERE_ALLERGIES,
    _SEVERE_REACTION,
    _EXTRA_SUPPORT,
    _previously(
        "menacwy_previously",
        "Has your child had a meningitis (MenACWY) vaccination in the last 5 years?",
        "It’s usually given once in Year 9 or 10. Some children may have had it before travelling abroad.",
    ),
)

_TD_IPV = (
    _BLEEDING_OR_TREATED,
    _SEVERE_ALLERGIES,
    _SEVERE_REACTION,
    _EXTRA_SUPPORT,
    _previously(
        "td_ipv_previously",
        "Has your child had a tetanus, diphtheria and polio vaccination in the last 5 years?",
        "Most children will not have had this vaccination since their 4-in-1 pre-school booster",
    ),
)

_MMR = (
    _BLEEDING_DISORDER,
    _BLOOD_THINNING,
    HealthQuestion(
        question_id="transfusion",
        question="Has your child received a blood or plasma transfusion, or immunoglobulin in the last 3 months?",
    ),
    HealthQuestion(
        question_id="severe_reaction_mmr",
        question="Has your child had a severe allergic reaction (anaphylaxis) to a previous dose of MMR or any "
        "other measles, mumps or rubella vaccine?",
    ),
    HealthQuestion(
        question_id="severe_reaction_neomycin",
        question="Has your child ever had a severe allergic reaction (anaphylaxis) to neomycin?",
        hint="Neomycin is an antibiotic sometimes found in creams or ointments.",
    ),
    HealthQuestion(
        question_id="immune_system",
        question=_IMMUNE,
        hint="The MMR vaccine is a live vaccine. It is not suitable for people who have serious problems with "
        "their immune systems.",
    ),
    HealthQuestion(
        question_id="contraindications",
        question="Has your child had any of the following in the last 4 weeks, or are they due to have them in the "
        "next 4 weeks: TB skin test, chickenpox vaccine, or yellow fever vaccine?",
    ),
    _OTHER_CONDITIONS,
    _EXTRA_SUPPORT,
)

_QUESTIONS = {"flu": _FLU, "hpv": _HPV, "menacwy": _MENACWY, "td_ipv": _TD_IPV, "mmr": _MMR}
_INJECTION = [VaccineMethod.INJECTION]
# Flu: the nasal spray, with an injection for children who cannot have it.
METHODS = {"flu": [VaccineMethod.NASAL, VaccineMethod.INJECTION]}


def form_programme(programme: str) -> FormProgramme:
    return FormProgramme(
        programme=programme,  # type: ignore[arg-type]  # a Programme value; pydantic validates it
        vaccine_methods=METHODS.get(programme, _INJECTION),
        health_questions=list(_QUESTIONS[programme]),
    )


def methods_offered(programme: str) -> frozenset[str]:
    return frozenset(m.value for m in METHODS.get(programme, _INJECTION))


def question_ids(programme: str) -> frozenset[str]:
    return frozenset(q.question_id for q in _QUESTIONS[programme])
