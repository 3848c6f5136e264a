"""The three staff roles, as groups, with the minimum each one's work needs (SPEC, "Staff:
roles, security, audit"). Shipped by staff/migrations/0001_roles.py; a later feature with its
own permissions adds them here and applies the roles again in a migration of its own."""

from collections.abc import Collection


def perms(app_label: str, model: str, *actions: str) -> list[tuple[str, str]]:
    return [(app_label, f"{action}_{model}") for action in actions]


FRONT_DESK = [
    # The day: visits, who is working when, and patients' contact details.
    *perms("booking", "appointment", "view", "add", "change"),
    *perms("booking", "patient", "view", "add", "change"),
    *perms("booking", "patientnote", "view", "add"),
    *perms("booking", "treatmentplan", "view"),  # how many sessions are left to book
    *perms("booking", "clinician", "view", "change"),  # change: hours, time off, taking bookings (admin)
    *perms("booking", "workinghours", "view", "add", "change", "delete"),
    *perms("booking", "timeoff", "view", "add", "change", "delete"),
    *perms("booking", "appointmenttype", "view"),
    *perms("reminders", "reminderrule", "view"),
    *perms("reminders", "reminder", "view", "change"),  # change: send again
    # A screening's outcome and urgent flag; never its answers (no view_screening_answers).
    *perms("screening", "screening", "view"),
]

CLINICIAN = [
    *perms("booking", "appointment", "view", "change"),
    *perms("booking", "patient", "view", "change"),
    ("booking", "record_rems_enrollment"),
    *perms("booking", "patientnote", "view", "add"),
    *perms("booking", "treatmentplan", "view", "add", "change"),  # add: approve a plan
    *perms("booking", "clinician", "view"),
    *perms("booking", "workinghours", "view"),
    *perms("booking", "timeoff", "view"),
    *perms("booking", "appointmenttype", "view"),
    *perms("reminders", "reminderrule", "view"),
    *perms("reminders", "reminder", "view"),
    *perms("screening", "screening", "view"),
    ("screening", "view_screening_answers"),
    ("screening", "review_screening"),
    # The session chart (treatment/): charting, discharge with its overrides, signature, addenda, scores.
    *perms("treatment", "sessionrecord", "view", "add", "change"),
    ("treatment", "chart_session"),
    ("treatment", "sign_session"),
    *perms("treatment", "observation", "view", "add"),
    *perms("treatment", "adverseevent", "view", "add"),
    *perms("treatment", "dischargeoverride", "view"),
    *perms("treatment", "addendum", "view", "add"),
    *perms("treatment", "measurement", "view", "add"),
    # Medical review of what patients read.
    *perms("education", "article", "view", "change"),
    *perms("education", "condition", "view", "change"),
    *perms("education", "faq", "view", "change"),
]

MANAGER = sorted(
    {
        *FRONT_DESK,
        *CLINICIAN,
        *perms("auth", "user", "view", "add", "change"),
        *perms("auth", "group", "view"),
        *perms("booking", "clinician", "add", "change"),
        *perms("booking", "appointmenttype", "add", "change"),
        ("booking", "export_visits"),  # visits as CSV, for the clinic's own accounts and planning
        ("treatment", "submit_rems_form"),  # the REMS monitoring forms due, marked submitted
        *perms("reminders", "reminderrule", "add", "change", "delete"),
        *perms("education", "article", "add", "delete"),
        *perms("education", "condition", "add", "delete"),
        *perms("education", "faq", "add", "delete"),
        *perms("auditlog", "logentry", "view"),
        *perms("axes", "accessattempt", "view", "delete"),  # delete: unlock
        *perms("axes", "accesslog", "view"),
        *perms("axes", "accessfailurelog", "view"),
    }
)

ROLES: dict[str, Collection[tuple[str, str]]] = {"Front desk": FRONT_DESK, "Clinician": CLINICIAN, "Manager": MANAGER}


def roles_apply(Group, Permission) -> None:  # noqa: N803 - the historical models, in a migration
    """Each role's group holds exactly its permissions, those that exist by now (an app migrated
    later applies the roles again once its own permissions exist)."""
    for name, wanted in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = set(wanted)
        existing = Permission.objects.filter(content_type__app_label__in={label for label, _codename in wanted})
        group.permissions.set(
            [
                perm
                for perm in existing.select_related("content_type")
                if (perm.content_type.app_label, perm.codename) in wanted
            ]
        )
