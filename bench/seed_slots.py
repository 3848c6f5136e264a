"""Bench data: 10 clinicians with 60 days of bookings (5,000 appointments), on the clinic's calendar."""

import datetime
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking.models import Appointment, AppointmentType, Clinician, Patient, WorkingHours

CLINICIANS, DAYS, APPOINTMENTS = 10, 60, 5000
HOURS = ((7, 12), (13, 19))  # 11 one-hour places a day


@transaction.atomic
def seed() -> None:
    Appointment.objects.all().delete()
    Clinician.objects.filter(name__startswith="Bench clinician").delete()
    consultation = AppointmentType.objects.get(slug="consultation")
    zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    patient, _ = Patient.objects.get_or_create(
        email="bench@example.org", defaults={"full_name": "Bench", "phone": "5550100100"}
    )
    clinicians = []
    for number in range(CLINICIANS):
        clinician = Clinician.objects.create(name=f"Bench clinician {number:02d}")
        clinician.appointment_types.add(consultation)
        WorkingHours.objects.bulk_create(
            WorkingHours(clinician=clinician, weekday=day, start=datetime.time(start), end=datetime.time(end))
            for day in range(7)
            for start, end in HOURS
        )
        clinicians.append(clinician)
    first_day = timezone.localdate(timezone=zone) + datetime.timedelta(days=1)
    places = [
        (clinician, first_day + datetime.timedelta(days=day), hour)
        for clinician in clinicians
        for day in range(DAYS)
        for start, end in HOURS
        for hour in range(start, end)
    ]
    rows = []
    for clinician, day, hour in random.Random(1).sample(places, APPOINTMENTS):  # noqa: S311 - repeatable test data
        start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
        rows.append(
            Appointment(
                patient=patient, clinician=clinician, appointment_type=consultation, start=start,
                end=start + datetime.timedelta(minutes=45), blocked_start=start,
                blocked_end=start + datetime.timedelta(minutes=60), time_zone=settings.CLINIC_TIME_ZONE,
            )
        )  # fmt: skip
    Appointment.objects.bulk_create(rows, batch_size=1000)
