"""The built-in template catalogue: generic templates for every kind and channel, plus team overrides.

The ids stand in for the templates registered in GOV.UK Notify and are fixed so that logs and the
stub provider stay comparable between runs. Overrides follow Mavis: RT5 (Leicestershire, LPT)
customises the initial invitation; RYG (Coventry and Warwickshire, CWPT, which books through
SwiftQueue) customises the initial and subsequent invitations.
"""

from __future__ import annotations

from notify.domain.templates import Channel, MessageKind, Template, TemplateCatalogue

K = MessageKind
EMAIL = Channel.EMAIL
SMS = Channel.SMS

_CONTACT = "If you have any questions, contact ((team_name)) on ((team_phone)) or at ((team_email))."

_GENERIC: tuple[Template, ...] = (
    Template(
        id="626080e2-a56c-48e4-b612-4da628a23c5b",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=EMAIL,
        subject="Book a community clinic appointment for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "((child_full_name)) has not had their ((programmes)) vaccination yet. "
            "((team_name)) runs community clinics where they can have it.\n\n"
            "Book an appointment: ((booking_link))\n\n" + _CONTACT
        ),
    ),
    Template(
        id="73690d51-48c7-4e72-bb2f-9344bbf0b639",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=SMS,
        body=(
            "((child_first_name)) can have their ((programmes)) vaccination at a community clinic "
            "run by ((team_name)). Book at ((booking_link)) or call ((team_phone))."
        ),
    ),
    Template(
        id="4b9c0b12-256a-43e8-a506-b81033e4bbae",
        kind=K.CLINIC_SUBSEQUENT_INVITATION,
        channel=EMAIL,
        subject="Community clinic appointments for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "We invited you to book a community clinic appointment for ((child_full_name))'s "
            "((programmes)) vaccination. There are still appointments available.\n\n"
            "Book an appointment: ((booking_link))\n\n" + _CONTACT
        ),
    ),
    Template(
        id="58783221-4f57-44a8-a203-f45aedfbff2b",
        kind=K.CLINIC_SUBSEQUENT_INVITATION,
        channel=SMS,
        body=(
            "There are still community clinic appointments for ((child_first_name))'s "
            "((programmes)) vaccination. Book at ((booking_link)) or call ((team_phone))."
        ),
    ),
    Template(
        id="52dcdc4a-5460-4adc-8f1f-ce14451bffb5",
        kind=K.CONSENT_CLINIC_REQUEST,
        channel=EMAIL,
        subject="Consent for ((child_full_name))'s ((programmes)) vaccination",
        body=(
            "Dear parent or guardian,\n\n"
            "((team_name)) needs to know whether you consent to ((child_full_name)) having their "
            "((programmes)) vaccination at a community clinic.\n\n"
            "Give or refuse consent online: ((consent_form_link))\n\n"
            "It takes a few minutes. " + _CONTACT
        ),
    ),
    Template(
        id="cf96e9c2-aeb1-489c-886c-212b1520904c",
        kind=K.CONSENT_CLINIC_REQUEST,
        channel=SMS,
        body=(
            "Do you consent to ((child_first_name)) having their ((programmes)) vaccination at a "
            "community clinic? Give or refuse consent at ((consent_form_link))"
        ),
    ),
    Template(
        id="6587d3c9-1237-45ad-9178-2b1165bba66c",
        kind=K.CONSENT_CONFIRMATION_GIVEN,
        channel=EMAIL,
        subject="You have given consent for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "Thank you. You have agreed that ((child_full_name)) can have their ((programmes)) "
            "vaccination.\n\n"
            "Book a community clinic appointment: ((booking_link))\n\n" + _CONTACT
        ),
    ),
    Template(
        id="512b131f-f5ff-4028-9ad8-5224904860bb",
        kind=K.CONSENT_CONFIRMATION_GIVEN,
        channel=SMS,
        body=(
            "Thank you. You have agreed that ((child_first_name)) can have their ((programmes)) "
            "vaccination. Book at ((booking_link))."
        ),
    ),
    Template(
        id="261e9a10-523a-4c8d-ae6f-6bc6bd2009c6",
        kind=K.CONSENT_CONFIRMATION_REFUSED,
        channel=EMAIL,
        subject="You have refused consent for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "You have refused consent for ((child_full_name)) to have their ((programmes)) "
            "vaccination. They will not be vaccinated.\n\n"
            "((follow_up_sentence))\n\n"
            "If you change your mind, contact ((team_name)) on ((team_phone)) or at "
            "((team_email))."
        ),
    ),
    Template(
        id="5a778dc6-a66a-4a70-ab65-636dfaa67370",
        kind=K.CONSENT_CONFIRMATION_REFUSED,
        channel=SMS,
        body=(
            "You have refused consent for ((child_first_name))'s ((programmes)) vaccination. "
            "((follow_up_sentence)) If you change your mind, call ((team_name)) on ((team_phone))."
        ),
    ),
    # Issue 20, after Mavis's consent_confirmation_triage and consent_unknown_contact_details_warning.
    Template(
        id="0f5c3a41-7d2e-4b8a-9c61-3e8d2a7b5f10",
        kind=K.CONSENT_CONFIRMATION_TRIAGE,
        channel=EMAIL,
        subject="You have given consent for ((child_full_name)): a nurse will check your answers",
        body=(
            "Dear ((parent_full_name)),\n\n"
            "Thank you. You have agreed that ((child_full_name)) can have their ((programmes)) vaccination.\n\n"
            "You told us about a health condition or medicine, so a nurse needs to check your answers "
            "before ((child_first_name)) can be vaccinated. If they need to know more, someone from "
            "((team_name)) will contact you.\n\n" + _CONTACT
        ),
    ),
    Template(
        id="7b2e9d64-1c3f-4a5e-8f07-6d4c1b9a2e83",
        kind=K.CONSENT_CONFIRMATION_TRIAGE,
        channel=SMS,
        body=(
            "Thank you for giving consent for ((child_first_name))'s ((programmes)) vaccination. A nurse "
            "will check your health answers; ((team_name)) will contact you if they need to know more."
        ),
    ),
    Template(
        id="c3a8f1d2-5e6b-4c7d-a9e0-2f1b8d7c6e54",
        kind=K.CONSENT_UNKNOWN_CONTACT_DETAILS,
        channel=EMAIL,
        subject="Someone responded to a consent request for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "Someone has responded to our request for consent for ((child_full_name)) to have their "
            "((programmes)) vaccination. They used contact details that we do not have on record for "
            "((child_first_name))'s parents.\n\n"
            "If you did not expect this, or you think the response was not from someone with parental "
            "responsibility, contact ((team_name)) on ((team_phone)) or at ((team_email))."
        ),
    ),
    Template(
        id="e8d7c6b5-4a39-4f2e-8d1c-0b9a8f7e6d52",
        kind=K.CONSENT_UNKNOWN_CONTACT_DETAILS,
        channel=SMS,
        body=(
            "Someone responded to our consent request for ((child_first_name))'s ((programmes)) vaccination "
            "using contact details we do not have for you. If you did not expect this, call ((team_name)) "
            "on ((team_phone))."
        ),
    ),
)

_SWIFTQUEUE = (
    "Book an appointment through SwiftQueue: ((booking_link))\n\n"
    "Coventry and Warwickshire Partnership NHS Trust runs clinics across the county. "
    "Choose the one most convenient for you.\n\n" + _CONTACT
)

_OVERRIDES: tuple[Template, ...] = (
    Template(
        id="ffff999f-ed83-45ae-a058-38472eb0e8f8",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=EMAIL,
        ods_code="RT5",
        subject="Book ((child_full_name))'s ((programmes)) vaccination in Leicestershire",
        body=(
            "Dear parent or guardian,\n\n"
            "((child_full_name)) has not had their ((programmes)) vaccination yet. Leicestershire "
            "Partnership NHS Trust holds community clinics in school holidays.\n\n"
            "Book an appointment: ((booking_link))\n\n" + _CONTACT
        ),
    ),
    Template(
        id="7387b1ee-f087-4728-8a4f-57834a70dc8d",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=SMS,
        ods_code="RT5",
        body=(
            "Leicestershire Partnership NHS Trust: ((child_first_name)) can have their "
            "((programmes)) vaccination at a community clinic. Book at ((booking_link))."
        ),
    ),
    Template(
        id="5a354bdf-1db9-43b2-aff4-31ab90598dd3",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=EMAIL,
        ods_code="RYG",
        subject="Book ((child_full_name))'s ((programmes)) vaccination with SwiftQueue",
        body=(
            "Dear parent or guardian,\n\n"
            "((child_full_name)) has not had their ((programmes)) vaccination yet.\n\n" + _SWIFTQUEUE
        ),
    ),
    Template(
        id="aa3571a2-7597-4ce2-85bd-a5f01b681714",
        kind=K.CLINIC_INITIAL_INVITATION,
        channel=SMS,
        ods_code="RYG",
        body=(
            "CWPT: ((child_first_name)) can have their ((programmes)) vaccination at a community "
            "clinic. Book through SwiftQueue: ((booking_link))"
        ),
    ),
    Template(
        id="7431fbf0-f018-46dd-83db-6d3fc033cc93",
        kind=K.CLINIC_SUBSEQUENT_INVITATION,
        channel=EMAIL,
        ods_code="RYG",
        subject="Community clinic appointments for ((child_full_name))",
        body=(
            "Dear parent or guardian,\n\n"
            "There are still appointments for ((child_full_name))'s ((programmes)) vaccination.\n\n" + _SWIFTQUEUE
        ),
    ),
    Template(
        id="2c9288b3-19e6-4a63-aae7-b9abdf858a83",
        kind=K.CLINIC_SUBSEQUENT_INVITATION,
        channel=SMS,
        ods_code="RYG",
        body=(
            "CWPT: there are still clinic appointments for ((child_first_name))'s ((programmes)) "
            "vaccination. Book through SwiftQueue: ((booking_link))"
        ),
    ),
)


def default_catalogue() -> TemplateCatalogue:
    """Generic templates for every kind and channel, with the RT5 and RYG overrides."""
    return TemplateCatalogue(_GENERIC + _OVERRIDES)
