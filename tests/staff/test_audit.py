"""The audit trail: who changed what (also through actions and services), who saw which
clinical record, and that nobody can rewrite it."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from booking import services
from booking.models import Appointment, Patient
from screening.models import Screening
from staff.services import audit_entries_purge
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

ACCESS, UPDATE = LogEntry.Action.ACCESS, LogEntry.Action.UPDATE


def signed_in(role: str):
    user = staff_with_role(role)
    client = Client(REMOTE_ADDR="10.0.0.7")
    staff_sign_in(client, user)
    return client, user


def entries(obj, action):
    return LogEntry.objects.get_for_object(obj).filter(action=action)


def test_a_clinicians_view_of_screening_answers_writes_one_access_event():
    screening = submitted_screening(personas.REVIEW)
    client, clinician = signed_in("Clinician")
    assert client.get(f"/admin/screening/screening/{screening.pk}/change/").status_code == 200
    [event] = entries(screening, ACCESS)
    assert (event.actor, event.remote_addr, event.additional_data) == (
        clinician,
        "10.0.0.7",
        {"shown": "screening answers"},
    )
    assert event.timestamp == timezone.now()


def test_a_clinicians_list_of_screening_scores_writes_an_access_event_per_row_shown():
    shown = [submitted_screening(personas.REVIEW) for _ in range(3)]
    client, clinician = signed_in("Clinician")
    assert client.get("/admin/screening/screening/").status_code == 200
    for screening in shown:
        [event] = entries(screening, ACCESS)
        assert (event.actor, event.remote_addr) == (clinician, "10.0.0.7")
        assert event.additional_data == {"shown": "screening scores", "where": "list"}
    client.get("/admin/screening/screening/?q=nobody-by-this-name")  # no row shown: nothing seen
    assert LogEntry.objects.filter(action=ACCESS).count() == 3


def test_the_front_desks_list_of_outcomes_is_not_an_access_to_clinical_data():
    screening = submitted_screening(personas.REVIEW)
    client, _front_desk = signed_in("Front desk")
    client.get("/admin/screening/screening/")
    assert not entries(screening, ACCESS).exists()


def test_the_front_desk_opening_a_screening_is_recorded_as_seeing_its_outcome_only():
    screening = submitted_screening(personas.ELIGIBLE)
    client, _front_desk = signed_in("Front desk")
    client.get(f"/admin/screening/screening/{screening.pk}/change/")
    assert [event.additional_data for event in entries(screening, ACCESS)] == [{"shown": "screening outcome"}]


def test_opening_a_patients_page_is_an_access_event():
    patient = book(ClinicianFactory(), clinic_time(9, 10)).patient
    client, front_desk = signed_in("Front desk")
    client.get(f"/admin/booking/patient/{patient.pk}/change/")
    [event] = entries(patient, ACCESS)
    assert event.actor == front_desk and event.additional_data == {"shown": "patient record"}


def test_a_review_and_a_staff_cancel_are_recorded_with_who_did_them(django_capture_on_commit_callbacks):
    screening = submitted_screening(personas.URGENT)
    visit = book(ClinicianFactory(), clinic_time(9, 10))
    client, clinician = signed_in("Clinician")
    client.post(f"/admin/screening/screening/{screening.pk}/review/", {"decision": "contacted", "note": "Called."})
    review = entries(screening, UPDATE).get(changes__has_key="reviewed_at")
    assert review.actor == clinician and review.changes["review_decision"][1] == "contacted"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/booking/appointment/",
            {"action": "cancel_visits", "_selected_action": [visit.pk], "confirm": "yes", "reason": "Unwell"},
        )
    cancel = entries(visit, UPDATE).get(changes__has_key="status")
    assert cancel.actor == clinician and cancel.changes["status"] == ["confirmed", "cancelled"]


def test_changes_by_patients_and_by_the_reminder_worker_are_recorded_without_an_actor(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = book(ClinicianFactory(), clinic_time(9, 10))  # its confirmation is sent at once
    services.appointment_cancel(appointment=visit, reason="Can't make it")
    cancel = entries(visit, UPDATE).get(changes__has_key="status")
    assert cancel.actor is None
    confirmation = visit.reminders.get(kind="confirmation")
    sent = entries(confirmation, UPDATE).filter(changes__status__1="sent")
    assert sent.count() == 1 and sent.get().actor is None


def test_no_token_is_written_to_the_trail():
    visit = book(ClinicianFactory(), clinic_time(9, 10))
    screening = submitted_screening(personas.ELIGIBLE)
    text = " ".join(str(entry.changes) for entry in LogEntry.objects.all())
    for secret in (visit.token, visit.patient.booking_token, visit.video_room, screening.token, visit.request_key):
        assert secret not in text
    assert "item_9" not in text and "phq9" not in text  # nor a screening's answers


def test_managers_browse_and_filter_the_trail_and_nobody_changes_or_deletes_an_entry(admin_client):
    screening = submitted_screening(personas.REVIEW)
    clinician_client, _clinician = signed_in("Clinician")
    clinician_client.get(f"/admin/screening/screening/{screening.pk}/change/")
    event = entries(screening, ACCESS).get()
    manager, _manager = signed_in("Manager")
    listing = manager.get(f"/admin/auditlog/logentry/?action__exact={ACCESS}").content.decode()
    assert f"Screening #{screening.pk}" in listing and "10.0.0.7" in listing
    for client in (manager, admin_client, clinician_client):
        client.post(f"/admin/auditlog/logentry/{event.pk}/change/", {"object_repr": "nothing to see"})
        assert client.post(f"/admin/auditlog/logentry/{event.pk}/delete/", {"post": "yes"}).status_code in (302, 403)
        client.post("/admin/auditlog/logentry/", {"action": "delete_selected", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.object_repr == f"Screening #{screening.pk}"
    assert clinician_client.get("/admin/auditlog/logentry/").status_code == 403


def test_entries_are_kept_for_the_retention_period_then_purged(settings, capsys):
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    old = entries(patient, LogEntry.Action.CREATE).get()
    LogEntry.objects.filter(pk=old.pk).update(timestamp=timezone.now() - datetime.timedelta(days=6 * 366 + 1))
    kept = LogEntry.objects.log_create(patient, action=ACCESS, force_log=True)
    LogEntry.objects.filter(pk=kept.pk).update(timestamp=timezone.now() - datetime.timedelta(days=6 * 366 - 1))
    call_command("purge_audit_log")
    assert "1 audit entries older than" in capsys.readouterr().out
    assert list(LogEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    settings.AUDIT_RETENTION_DAYS = 30
    assert audit_entries_purge() == 1


def test_nothing_about_a_visit_is_lost_from_the_trail_when_staff_move_it(admin_client):
    visit = book(ClinicianFactory(), clinic_time(9, 10))
    form = {
        "patient": visit.patient_id,
        "clinician": visit.clinician_id,
        "appointment_type": visit.appointment_type_id,
        "start_0": "2026-12-09",
        "start_1": "11:00:00",
        "status": "confirmed",
        "time_zone": "America/New_York",
        "screening": "",
        "cancel_reason": "",
        "reminders-TOTAL_FORMS": "0",
        "reminders-INITIAL_FORMS": "0",
    }
    admin_client.post(f"/admin/booking/appointment/{visit.pk}/change/", form)
    assert Appointment.objects.get(pk=visit.pk).start == clinic_time(9, 11)
    moved = entries(visit, UPDATE).get(changes__has_key="start")
    assert moved.actor.is_superuser


def test_screening_drafts_from_anonymous_patients_leave_no_personal_data_in_the_trail(client):
    client.post("/screening/step/about/", personas.about())
    draft = Screening.objects.get()
    text = " ".join(f"{entry.object_repr} {entry.changes}" for entry in LogEntry.objects.get_for_object(draft))
    assert personas.about()["full_name"] not in text and personas.about()["email"] not in text
