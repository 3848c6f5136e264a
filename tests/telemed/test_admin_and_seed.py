import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_staff_sign_in_to_the_admin(client):
    staff = StaffUserFactory()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.username, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Appointments, schedules and screenings" in page.content.decode()


def test_a_patient_account_cannot_open_the_admin(client):
    patient = StaffUserFactory(is_staff=False)
    client.force_login(patient)
    assert client.get("/admin/").status_code == 302


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_prints_the_staff_login(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    staff = get_user_model().objects.get(username="demo-staff")
    assert staff.is_staff and staff.check_password("demo-staff-password")
    assert get_user_model().objects.count() == 1
    assert "demo-staff / demo-staff-password" in capsys.readouterr().out
    from booking.models import Appointment, Reminder

    # Six consultations and one infusion for an approved patient, each with its reminders.
    assert Appointment.objects.filter(appointment_type__slug="consultation").count() == 6
    infusion = Appointment.objects.get(appointment_type__slug="iv-infusion")
    assert infusion.patient.approved_for_treatment_at is not None
    assert set(Reminder.objects.filter(appointment=infusion).values_list("kind", flat=True)) == {
        "confirmation",
        "preparation",
        "day_before",
        "follow_up",
    }


@override_settings(DEBUG=False)
def test_seed_demo_refuses_when_debug_is_off():
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=True)
@pytest.mark.parametrize("clock", ["00:00", "07:21", "08:17", "09:06", "12:00", "18:00"])
def test_seed_demo_books_its_six_consultations_whatever_the_time(clock, time_machine, capsys):
    # At 07:21, 08:17 and 09:06 UTC on 1 December (found by trying every 7 minutes of the day) a
    # pick fell in the buffer of an earlier demo visit of the same clinician: `make run` stopped
    # with "that time was just taken".
    time_machine.move_to(f"2026-12-01T{clock}:48Z", tick=False)
    call_command("seed_demo")
    from booking.models import Appointment

    assert Appointment.objects.filter(appointment_type__slug="consultation").count() == 6
