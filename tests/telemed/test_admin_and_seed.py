import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_a_patient_account_cannot_open_the_admin(client):
    patient = StaffUserFactory(is_staff=False)
    client.force_login(patient)
    assert client.get("/admin/").status_code == 302


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_prints_one_login_per_role(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    users = get_user_model().objects.all()
    assert not users.filter(is_superuser=True).exists()
    roles = {user.username: [group.name for group in user.groups.all()] for user in users}
    assert roles == {"frontdesk": ["Front desk"], "clinician": ["Clinician"], "manager": ["Manager"]}
    out = capsys.readouterr().out
    for user in users:
        password = f"demo-{user.username}-pass"
        assert user.is_staff and user.check_password(password)
        assert f"{user.username} / {password}" in out
    assert "Two-factor sign-in is on" in out  # tests run as production does (OTP_REQUIRED)
    from booking.models import Appointment
    from reminders.models import Reminder

    # Six consultations and one infusion for an approved patient, each with its reminders.
    assert Appointment.objects.filter(appointment_type__slug="consultation").count() == 6
    infusion = Appointment.objects.get(appointment_type__slug="iv-infusion")
    [plan] = infusion.patient.treatment_plans.all()  # approved on a reviewed screening, the visit within it
    assert plan.screening.reviewed_at is not None and infusion.treatment_plan == plan
    assert (plan.appointment_type.slug, plan.sessions, plan.min_hours_between) == ("iv-infusion", 6, 48)
    assert set(Reminder.objects.filter(appointment=infusion).values_list("kind", flat=True)) == {
        "confirmation",
        "preparation",
        "day_before",
        "follow_up",
    }
    # An esketamine patient enrolled in the REMS, with a session charted and signed a week ago
    # (discharged after the 2 hours, its REMS form due) and the next one booked.
    from treatment.models import SessionRecord

    [charted] = SessionRecord.objects.all()
    patient = charted.appointment.patient
    assert patient.rems_enrolled_on is not None and patient.rems_recorded_by.username == "clinician"
    assert charted.appointment.appointment_type.slug == "esketamine-nasal"
    assert charted.appointment.status == "completed" and charted.signed_at is not None
    assert (charted.discharged_at - charted.first_administration_at).total_seconds() >= 120 * 60
    assert charted.rems_submitted_at is None and charted.observations.count() == 4
    upcoming = patient.appointments.filter(status="confirmed", appointment_type__slug="esketamine-nasal")
    assert upcoming.count() == 1 and upcoming.get().treatment_plan == charted.appointment.treatment_plan


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
