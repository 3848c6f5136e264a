"""Bench data for the reminder benchmark: one reminder per visit, one visit per patient.

10,000 measured reminders, held (due in a month) until the benchmark makes them all due at
once, and a few warm-up reminders due now. Every recipient is distinct, so the SMTP sink's
count per (recipient, subject) shows any reminder sent twice.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from booking import services
from booking.models import Appointment, AppointmentType, Clinician, Patient
from reminders.models import Reminder

CLINICIANS = 100
# A clinic's mix, taken in turn: (appointment type, reminder kind). Follow-ups are for
# treatments held yesterday; every other reminder is for a visit still ahead.
MIX = (
    ("consultation", "confirmation"),
    ("consultation", "day_before"),
    ("follow-up", "day_before"),
    ("iv-infusion", "preparation"),
    ("iv-infusion", "follow_up"),
    ("esketamine-nasal", "confirmation"),
    ("esketamine-nasal", "day_before"),
    ("esketamine-nasal", "follow_up"),
)
TIME_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
MEASURED, WARMUP = "bench-", "warmup-"  # e-mail prefixes of the two groups


def measured_reminders():
    return Reminder.objects.filter(appointment__patient__email__startswith=MEASURED)


@transaction.atomic
def seed(*, count: int, warmup: int, now: datetime) -> None:
    # The benchmark's own database: its rows only. Emptied with TRUNCATE, not DELETE: each run
    # leaves some 30,000 dead row versions behind, and this machine's PostgreSQL runs without
    # autovacuum, so deleted rows piled up run after run (1.1 million dead reminders, 132 MB,
    # measured) and slowed every later run. A production table is vacuumed as it goes.
    tables = ", ".join(model._meta.db_table for model in (Reminder, Appointment, Patient))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    Clinician.objects.filter(name__startswith="Bench clinician").delete()
    types = {kind.slug: kind for kind in AppointmentType.objects.all()}
    clinicians = Clinician.objects.bulk_create(Clinician(name=f"Bench clinician {n:03d}") for n in range(CLINICIANS))
    groups = [(WARMUP, n, now) for n in range(warmup)] + [(MEASURED, n, now + timedelta(days=30)) for n in range(count)]
    patients = Patient.objects.bulk_create(
        (Patient(full_name=f"Bench patient {n}", email=f"{prefix}{n:05d}@example.org", phone="5550100100")
         for prefix, n, _due in groups),
        batch_size=2000,
    )  # fmt: skip
    appointments, kinds = [], []
    for index, patient in enumerate(patients):
        slug, kind = MIX[index % len(MIX)]
        clinician, place = clinicians[index % CLINICIANS], index // CLINICIANS  # 3 h apart: no overlap
        if kind == "follow_up":
            start, status = now - timedelta(hours=20 + 3 * place), Appointment.Status.COMPLETED
        else:
            start, status = now + timedelta(hours=13 + 3 * place), Appointment.Status.CONFIRMED
        end, blocked_start, blocked_end = services.visit_times(types[slug], start)
        appointments.append(
            Appointment(
                patient=patient, clinician=clinician, appointment_type=types[slug], start=start, end=end,
                blocked_start=blocked_start, blocked_end=blocked_end, status=status,
                time_zone=TIME_ZONES[index % len(TIME_ZONES)],
            )
        )  # fmt: skip
        kinds.append(kind)
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    Reminder.objects.bulk_create(
        (Reminder(appointment=appointment, kind=kind, due_at=due, for_start=appointment.start)
         for appointment, kind, (_prefix, _n, due) in zip(appointments, kinds, groups, strict=True)),
        batch_size=2000,
    )  # fmt: skip


def settle() -> None:
    """VACUUM ANALYZE the seeded tables, as autovacuum would have done by the time so many visits
    were booked: planner statistics and the visibility map, as on a production database."""
    with connection.cursor() as cursor:
        for model in (Reminder, Appointment, Patient, Clinician):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def make_due(*, at: datetime) -> int:
    """The measured reminders all fall due at `at`: what the next dispatch pass finds."""
    return measured_reminders().update(due_at=at, updated_at=timezone.now())
