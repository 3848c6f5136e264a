"""The clinic's appointment types as shipped (staff can edit them in the admin afterwards).

Used by the data migration that ships them (with the historical model) and by tests, whose
transactional cases empty the tables between tests.
"""

import datetime

from reminders import timing

APPOINTMENT_TYPES = [
    {
        "slug": "consultation",
        "name": "Consultation",
        "mode": "video",
        "duration_minutes": 45,
        "buffer_after_minutes": 15,
        "step_minutes": 15,
        "min_notice_hours": 12,
        "cancellation_cutoff_hours": 24,
        "requires_screening": True,
        "order": 10,
        "what_to_expect": (
            "A 45-minute video call with a clinician. You talk through your screening answers, your health, "
            "past treatment and goals, and decide together whether ketamine treatment could suit you."
        ),
    },
    {
        "slug": "follow-up",
        "name": "Follow-up",
        "mode": "video",
        "duration_minutes": 30,
        "buffer_after_minutes": 10,
        "step_minutes": 15,
        "min_notice_hours": 12,
        "cancellation_cutoff_hours": 24,
        "order": 20,
        "what_to_expect": "A 30-minute video call to review how you are doing and adjust your plan.",
    },
    {
        "slug": "iv-infusion",
        "name": "IV ketamine infusion",
        "mode": "in_person",
        "duration_minutes": 40,
        "buffer_before_minutes": 15,
        "recovery_minutes": 60,
        "buffer_after_minutes": 15,
        "step_minutes": 30,
        "min_notice_hours": 48,
        "cancellation_cutoff_hours": 24,
        "fasting_food_minutes": 360,
        "fasting_liquids_minutes": 120,
        "ride_home_required": True,
        "needs_approval": True,
        "order": 30,
        "what_to_expect": (
            "About 40 minutes of infusion in our clinic, with your blood pressure checked throughout, then about "
            "an hour to recover. No solid food for 6 hours before; clear liquids until 2 hours before. A sober "
            "adult must drive you home."
        ),
    },
    {
        "slug": "esketamine-nasal",
        "name": "Esketamine nasal spray session",
        "mode": "in_person",
        "duration_minutes": 120,
        "buffer_before_minutes": 15,
        "buffer_after_minutes": 15,
        "step_minutes": 30,
        "min_notice_hours": 48,
        "cancellation_cutoff_hours": 24,
        "fasting_food_minutes": 120,
        "fasting_liquids_minutes": 30,
        "ride_home_required": True,
        "needs_approval": True,
        "order": 40,
        "what_to_expect": (
            "You use the nasal spray under supervision in our clinic and stay at least 2 hours while we monitor "
            "you. No food for 2 hours before and no liquids for 30 minutes before. A sober adult must drive you home."
        ),
    },
]


# Reminders per type (SPEC, Reminders): offsets in minutes before the start, in the patient's
# clock time; negative is after it. Follow-ups go out the morning after a treatment.
_VISIT: list[tuple[str, int, datetime.time | None]] = [
    (timing.CONFIRMATION, 0, None),
    (timing.DAY_BEFORE, 24 * 60, None),
]
_TREATMENT: list[tuple[str, int, datetime.time | None]] = [
    *_VISIT,
    (timing.PREPARATION, 48 * 60, None),
    (timing.FOLLOW_UP, -24 * 60, datetime.time(10, 0)),
]
REMINDER_RULES = {
    "consultation": _VISIT,
    "follow-up": _VISIT,
    "iv-infusion": _TREATMENT,
    "esketamine-nasal": _TREATMENT,
}


def load_appointment_types(appointment_type_model, reminder_rule_model=None) -> None:
    """The shipped types, with the fields `appointment_type_model` has: an early migration's historical
    model lacks the later ones (their own migrations set them)."""
    fields = {field.name for field in appointment_type_model._meta.get_fields()}
    for values in APPOINTMENT_TYPES:
        appointment_type, _created = appointment_type_model.objects.update_or_create(
            slug=values["slug"], defaults={name: value for name, value in values.items() if name in fields}
        )
        if reminder_rule_model is not None:
            load_reminder_rules(appointment_type, reminder_rule_model)


def load_reminder_rules(appointment_type, reminder_rule_model) -> None:
    """The shipped reminders of one type; rules staff have already edited are left as they are."""
    for kind, offset_minutes, at_local_time in REMINDER_RULES.get(appointment_type.slug, _VISIT):
        reminder_rule_model.objects.get_or_create(
            appointment_type=appointment_type,
            kind=kind,
            defaults={"offset_minutes": offset_minutes, "at_local_time": at_local_time},
        )
