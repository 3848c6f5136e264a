import pytest

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


@pytest.mark.django_db
@pytest.mark.usefixtures("celery_eager", "frozen_now")
def test_staff_see_a_video_visits_room_but_never_the_patients_manage_token(admin_client, settings):
    settings.VIDEO_ROOM_BASE_URL = "https://meet.clinic.example.org/"
    appointment = book(ClinicianFactory(), clinic_time(8, 10))
    page = admin_client.get(f"/admin/booking/appointment/{appointment.pk}/change/").content.decode()
    assert f'href="https://meet.clinic.example.org/{appointment.video_room}"' in page
    assert appointment.token not in page
