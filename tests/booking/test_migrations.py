"""Data migrations: reminders for visits booked before reminders existed; booking links already e-mailed."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = [("booking", "0006_cancellation_notice")], [("booking", "0007_reminders_for_earlier_bookings")]


@pytest.mark.django_db(transaction=True)
def test_visits_booked_before_reminders_get_them_with_the_confirmation_counted_as_sent():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    appointment_type = apps.get_model("booking", "AppointmentType").objects.get(slug="iv-infusion")
    clinician = apps.get_model("booking", "Clinician").objects.create(name="Dr. Earlier")
    patient = apps.get_model("booking", "Patient").objects.create(full_name="P", email="p@example.org", phone="1")
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    appointment_model = apps.get_model("booking", "Appointment")
    ahead, past = (
        appointment_model.objects.create(
            patient=patient,
            clinician=clinician,
            appointment_type=appointment_type,
            start=when,
            end=when + timedelta(minutes=40),
            blocked_start=when,
            blocked_end=when + timedelta(minutes=40),
        )
        for when in (start, start - timedelta(days=30))
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    reminder_model = apps.get_model("booking", "Reminder")
    rows = {r.kind: r.status for r in reminder_model.objects.filter(appointment_id=ahead.pk)}
    assert rows == {"confirmation": "sent", "preparation": "pending", "day_before": "pending", "follow_up": "pending"}
    assert not reminder_model.objects.filter(appointment_id=past.pk).exists()  # nothing for a visit gone by


@pytest.mark.django_db(transaction=True)
def test_patients_approved_before_the_record_existed_are_not_e_mailed_again():
    before, after = [("booking", "0007_reminders_for_earlier_bookings")], [("booking", "0008_approval_emailed_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    patients = executor.loader.project_state(before).apps.get_model("booking", "Patient").objects
    approved_at = timezone.now() - timedelta(minutes=10)
    approved = patients.create(full_name="A", email="a@example.org", phone="1", approved_for_treatment_at=approved_at)
    waiting = patients.create(full_name="W", email="w@example.org", phone="1")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    patients = executor.loader.project_state(after).apps.get_model("booking", "Patient").objects
    assert patients.get(pk=approved.pk).approval_emailed_at == approved_at
    assert patients.get(pk=waiting.pk).approval_emailed_at is None
