"""Data migrations: reminders for visits booked before reminders existed; booking links already e-mailed;
video rooms for visits booked before; the safety flag of earlier urgent screenings; the consultation's
screening gate as a flag."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = [("booking", "0006_cancellation_notice")], [("booking", "0007_reminders_for_earlier_bookings")]


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """Each test here winds the schema back; the tests after it need today's."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


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


@pytest.mark.django_db(transaction=True)
def test_visits_booked_before_their_own_video_rooms_each_get_one():
    before, after = (
        [("booking", "0009_reminder_appointment_index_in_unique")],
        [("booking", "0010_video_room_and_sequence")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    kind = apps.get_model("booking", "AppointmentType").objects.get(slug="consultation")
    clinician = apps.get_model("booking", "Clinician").objects.create(name="Dr. Earlier", video_room_url="https://v/x")
    patient = apps.get_model("booking", "Patient").objects.create(full_name="P", email="p@example.org", phone="1")
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    for offset in (0, 2, 4):
        when = start + timedelta(hours=offset)
        apps.get_model("booking", "Appointment").objects.create(
            patient=patient, clinician=clinician, appointment_type=kind, start=when,
            end=when + timedelta(minutes=45), blocked_start=when, blocked_end=when + timedelta(hours=1),
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    appointments = executor.loader.project_state(after).apps.get_model("booking", "Appointment").objects
    rooms = list(appointments.values_list("video_room", flat=True))
    assert len(set(rooms)) == 3 and all(len(room) >= 32 for room in rooms)  # 192 random bits each
    assert set(appointments.values_list("sequence", flat=True)) == {0}


@pytest.mark.django_db(transaction=True)
def test_urgent_screenings_from_before_are_flagged_when_they_were_submitted():
    before, after = [("screening", "0001_initial")], [("screening", "0002_safety_flagged_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    screenings = executor.loader.project_state(before).apps.get_model("screening", "Screening").objects
    submitted = timezone.now() - timedelta(days=1)
    urgent = screenings.create(token="u", urgent=True, outcome="urgent", submitted_at=submitted)
    calm = screenings.create(token="c", urgent=False, outcome="eligible", submitted_at=submitted)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    screenings = executor.loader.project_state(after).apps.get_model("screening", "Screening").objects
    assert screenings.get(pk=urgent.pk).safety_flagged_at == submitted
    assert screenings.get(pk=calm.pk).safety_flagged_at is None


@pytest.mark.django_db(transaction=True)
def test_the_shipped_consultation_and_no_other_type_is_flagged_as_needing_a_screening():
    before, after = (
        [("booking", "0013_appointment_type_requires_screening")],
        [("booking", "0014_consultation_requires_screening")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    types = executor.loader.project_state(before).apps.get_model("booking", "AppointmentType").objects
    types.update(requires_screening=False)  # as the new column leaves every type
    types.create(slug="group-session", name="Group session", mode="video", duration_minutes=60)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    types = executor.loader.project_state(after).apps.get_model("booking", "AppointmentType").objects
    assert set(types.filter(requires_screening=True).values_list("slug", flat=True)) == {"consultation"}
    assert types.filter(requires_screening=False).count() == types.count() - 1
