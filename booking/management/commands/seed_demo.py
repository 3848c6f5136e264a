import datetime
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, AppointmentType, Clinician, Patient, TimeOff, WorkingHours

DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "demo-staff-password"  # noqa: S105 - development data only; refused when DEBUG is off

WEEKDAYS, MON_WED_FRI, TUE_TO_SAT = range(5), (0, 2, 4), range(1, 6)


def blocks(days, *spans: tuple[str, str]) -> list[tuple[int, str, str]]:
    """The same hours on each of the days; two spans make a lunch break."""
    return [(day, start, end) for day in days for start, end in spans]


# name, credentials, appointment types, weekly hours
CLINICIANS = [
    (
        "Dr. Maya Chen",
        "MD, psychiatrist",
        ["consultation", "follow-up", "esketamine-nasal"],
        blocks(WEEKDAYS, ("09:00", "12:00"), ("13:00", "17:00")),
    ),
    (
        "Dr. Sam Okafor",
        "MD, anesthesiologist",
        ["consultation", "iv-infusion"],
        blocks(MON_WED_FRI, ("08:00", "12:00"), ("13:00", "16:00")),
    ),
    (
        "Jordan Reyes",
        "PMHNP-BC, psychiatric nurse practitioner",
        ["consultation", "follow-up"],
        blocks(TUE_TO_SAT, ("10:00", "13:00"), ("14:00", "18:00")),
    ),
]


class Command(BaseCommand):
    help = "Load demonstration data for local development (idempotent; refused when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads demonstration data and only runs with DEBUG on.")
        with transaction.atomic():
            created = self.staff()
            self.clinicians()
        self.stdout.write(
            f"Demo data ready. Staff login at /admin/: {DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}"
            + ("" if created else " (unchanged if you altered it)")
        )

    def staff(self) -> bool:
        staff, created = get_user_model().objects.get_or_create(
            username=DEMO_STAFF_USERNAME,
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "first_name": "Demo",
                "last_name": "Staff",
                "email": "staff@clinic.example.org",  # receives urgent-screening alerts (console e-mail)
            },
        )
        if created:
            staff.set_password(DEMO_STAFF_PASSWORD)
            staff.save(update_fields=["password"])
        return created

    def clinicians(self) -> None:
        zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
        for name, credentials, type_slugs, weekly in CLINICIANS:
            clinician, created = Clinician.objects.get_or_create(name=name, defaults={"credentials": credentials})
            if not created:
                continue
            clinician.appointment_types.set(AppointmentType.objects.filter(slug__in=type_slugs))
            WorkingHours.objects.bulk_create(
                WorkingHours(clinician=clinician, weekday=day, start=start, end=end) for day, start, end in weekly
            )
            next_week = timezone.localdate(timezone=zone) + datetime.timedelta(days=7)
            TimeOff.objects.create(
                clinician=clinician,
                start=datetime.datetime.combine(next_week, datetime.time(9), tzinfo=zone),
                end=datetime.datetime.combine(next_week, datetime.time(13), tzinfo=zone),
                reason="Training (demo)",
            )
        if Appointment.objects.exists():
            return
        consultation = AppointmentType.objects.get(slug="consultation")
        now = timezone.now()
        number = 0
        for slot in selectors.open_slots(
            appointment_type=consultation, window_start=now, window_end=now + datetime.timedelta(days=5), now=now
        )[::7]:
            if number == 6:
                break
            try:
                services.appointment_book(
                    appointment_type=consultation,
                    clinician_id=slot.clinician_id,
                    start=slot.start,
                    details=services.PatientDetails(
                        f"Demo Patient {number}", f"demo{number}@example.org", "5550100100"
                    ),
                    time_zone=settings.CLINIC_TIME_ZONE,
                    request_key=secrets.token_urlsafe(16),  # a known key would open the booking to anyone
                )
            except services.SlotTaken:  # an earlier demo visit of that clinician, with its buffers, covers it
                continue
            number += 1
        # One approved patient with an IV infusion booked: the preparation and ride-home reminders.
        infusion = AppointmentType.objects.get(slug="iv-infusion")
        Patient.objects.filter(email="demo0@example.org").update(approved_for_treatment_at=now)
        first = selectors.open_slots(
            appointment_type=infusion, window_start=now, window_end=now + datetime.timedelta(days=14), now=now
        )[:1]
        for slot in first:
            services.appointment_book(
                appointment_type=infusion,
                clinician_id=slot.clinician_id,
                start=slot.start,
                details=services.PatientDetails("Demo Patient 0", "demo0@example.org", "5550100100"),
                time_zone=settings.CLINIC_TIME_ZONE,
                request_key=secrets.token_urlsafe(16),
            )
