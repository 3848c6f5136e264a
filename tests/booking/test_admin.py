from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking import services
from booking.models import Patient
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]


@pytest.fixture
def staff_client(client):
    staff_sign_in(client, StaffUserFactory(is_superuser=True))
    return client


def test_appointments_are_listed_with_clinic_time_patient_type_and_clinician(staff_client):
    book(ClinicianFactory(name="Dr. A"), clinic_time(8, 10))
    html = staff_client.get("/admin/booking/appointment/").content.decode()
    assert "Tue Dec 08 2026, 10:00 AM EST" in html
    assert "Patient 1" in html and "Consultation" in html and "Dr. A" in html
    assert staff_client.get("/admin/booking/appointment/?q=patient1@example.org").status_code == 200
    assert staff_client.get("/admin/booking/appointment/?status__exact=confirmed").status_code == 200


def test_clinicians_have_working_hours_and_time_off_inlines(staff_client):
    clinician = ClinicianFactory()
    html = staff_client.get(f"/admin/booking/clinician/{clinician.pk}/change/").content.decode()
    assert "Working hours" in html and "Time off" in html


def test_approving_a_patient_emails_a_booking_link_once(staff_client, django_capture_on_commit_callbacks):
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(
                "/admin/booking/patient/", {"action": "approve_for_treatment", "_selected_action": [patient.pk]}
            )
    patient.refresh_from_db()
    assert patient.approved_for_treatment_at is not None
    [email] = mail.outbox
    assert email.subject == "You can now book your next appointments"
    assert f"/book/?patient={patient.booking_token}" in email.body
    assert "ketamine" not in email.subject.lower()
    assert patient.approval_emailed_at is not None
    page = staff_client.get(f"/admin/booking/patient/{patient.pk}/change/").content.decode()
    assert "Booking link e-mailed" in page  # staff see whether the link went


def test_a_booking_link_whose_message_was_lost_is_sent_by_the_sweep_once():
    """The broker keeps no copy of a message (settings: ack emulation off): the row says what is owed."""
    now = timezone.now()
    lost, in_flight, sent, long_ago = (
        Patient.objects.create(full_name=f"P {n}", email=f"p{n}@example.org", phone="5550100", **fields)
        for n, fields in enumerate(
            [
                {"approved_for_treatment_at": now - timedelta(minutes=3)},
                {"approved_for_treatment_at": now - timedelta(seconds=30)},  # its message may still be on its way
                {"approved_for_treatment_at": now - timedelta(hours=1), "approval_emailed_at": now},
                {"approved_for_treatment_at": now - timedelta(days=8)},  # staff follow up by hand
            ]
        )
    )
    assert services.missed_approvals_notify() == 1
    assert services.missed_approvals_notify() == 0
    assert [email.to for email in mail.outbox] == [[lost.email]]
    lost.refresh_from_db()
    assert lost.approval_emailed_at is not None


@pytest.mark.django_db
@pytest.mark.usefixtures("celery_eager", "frozen_now")
def test_staff_see_a_video_visits_room_but_never_the_patients_manage_token(admin_client, settings):
    settings.VIDEO_ROOM_BASE_URL = "https://meet.clinic.example.org/"
    appointment = book(ClinicianFactory(), clinic_time(8, 10))
    page = admin_client.get(f"/admin/booking/appointment/{appointment.pk}/change/").content.decode()
    assert f'href="https://meet.clinic.example.org/{appointment.video_room}"' in page
    assert appointment.token not in page
