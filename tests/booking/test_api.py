import datetime
from datetime import timedelta

import pytest

from booking import selectors
from booking.models import Appointment, AppointmentType, Clinician, Patient, TimeOff, WorkingHours
from booking.services import PatientDetails, appointment_book
from tests.booking.conftest import clinic_time
from tests.factories import ClinicianFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def get(client, **params):
    return client.get(
        "/api/slots", {"type": "consultation", "start": "2026-12-08", "days": "1", "tz": "America/New_York", **params}
    )


def book(clinician, start, n):
    return appointment_book(
        appointment_type=AppointmentType.objects.get(slug="consultation"),
        clinician_id=clinician.pk,
        start=start,
        details=PatientDetails(f"P {n}", f"p{n}@example.org", "5550100100"),
        time_zone="America/New_York",
        request_key=f"key-{n}",
    )


def test_slots_of_a_day_with_lunch_break_and_clinician(client):
    clinician = ClinicianFactory(name="Dr. A")
    data = get(client).json()
    assert data["type"] == "consultation" and data["time_zone"] == "America/New_York"
    starts = [slot["start"] for slot in data["slots"]]
    # 45-minute visit + 15-minute buffer after, every 15 minutes, 9–12 and 13–17.
    assert starts[0] == "2026-12-08T09:00:00-05:00"
    assert "2026-12-08T11:15:00-05:00" in starts and "2026-12-08T11:30:00-05:00" not in starts
    assert "2026-12-08T12:00:00-05:00" not in starts and "2026-12-08T13:00:00-05:00" in starts
    assert starts[-1] == "2026-12-08T16:15:00-05:00"
    assert data["slots"][0]["clinician"] == {"id": clinician.pk, "name": "Dr. A"}


def test_times_are_given_in_the_requested_zone(client):
    ClinicianFactory()
    data = get(client, tz="America/Los_Angeles").json()
    # The LA day 2026-12-08 starts at 03:00 in New York: the first slot is 9:00 NY = 06:00 LA.
    assert data["slots"][0]["start"] == "2026-12-08T06:00:00-08:00"


def test_a_booked_time_and_its_buffer_disappear(client):
    clinician = ClinicianFactory()
    book(clinician, clinic_time(8, 10), 1)
    starts = [slot["start"] for slot in get(client).json()["slots"]]
    # 10:00–10:45 + 15 min buffer: 9:15 (ends 10:00 + buffer 10:15 overlaps) up to 10:45 are gone.
    assert "2026-12-08T09:00:00-05:00" in starts
    for gone in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"):
        assert f"2026-12-08T{gone}:00-05:00" not in starts
    assert "2026-12-08T11:00:00-05:00" in starts


def many_appointments(clinician, count: int) -> None:
    """Active bookings every 75 minutes, round the clock, from the first day of the week on."""
    patient = Patient.objects.create(full_name="Bulk", email="bulk@example.org", phone="5550100100")
    kind = AppointmentType.objects.get(slug="consultation")
    rows = []
    for i in range(count):
        start = clinic_time(7, 0) + timedelta(minutes=75 * i)
        end, blocked_end = start + timedelta(minutes=45), start + timedelta(minutes=60)
        rows.append(
            Appointment(
                patient=patient, clinician=clinician, appointment_type=kind, start=start, end=end,
                blocked_start=start, blocked_end=blocked_end, time_zone="America/New_York",
            )
        )  # fmt: skip
    Appointment.objects.bulk_create(rows)


@pytest.mark.parametrize("count", [1, 300])
def test_query_count_does_not_grow_with_bookings(client, django_assert_num_queries, count):
    many_appointments(ClinicianFactory(), count)
    ClinicianFactory()
    with django_assert_num_queries(3):  # the type, its clinicians' hours, the busy times
        get(client, days="7")
    with django_assert_num_queries(1):  # the busy times: this process keeps the type's schedule
        response = get(client, days="7")
    assert response.status_code == 200
    assert response.json()["slots"]


@pytest.mark.parametrize(
    "params",
    [
        {"type": "no-such-type"},
        {"type": ""},
        {"start": "2026-13-45"},
        {"start": "yesterday"},
        {"start": ""},
        {"start": "9999-12-31", "days": "62"},
        {"days": "10000"},
        {"days": "0"},
        {"days": "-3"},
        {"days": "two"},
        {"tz": "Mars/Olympus_Mons"},
        {"tz": "../../etc/passwd"},
        {"tz": ""},
        {"tz": "x" * 500},
    ],
)
def test_bad_input_is_a_400_with_a_json_error(client, params):
    response = get(client, **params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_treatment_types_list_slots_only_for_clinicians_who_give_them(client):
    ClinicianFactory(name="Consults only")
    infusion = ClinicianFactory(name="Infusions", offers=["iv-infusion"])
    data = get(client, type="iv-infusion", start="2026-12-10").json()
    assert {slot["clinician"]["id"] for slot in data["slots"]} == {infusion.pk}
    # 40-minute infusion + 60 minutes' recovery must end by 12:00: last morning start 10:00 on a 30-min grid.
    morning = [slot["start"][11:16] for slot in data["slots"] if slot["start"][11:13] < "12"]
    assert morning[-1] == "10:00"


def test_slots_of_one_clinician(client):
    ClinicianFactory(name="Dr. A")
    wanted = ClinicianFactory(name="Dr. B")
    data = get(client, clinician=str(wanted.pk)).json()
    assert data["slots"] and {slot["clinician"]["name"] for slot in data["slots"]} == {"Dr. B"}
    assert get(client, clinician="abc").status_code == 400


# Each process keeps a type's schedule. A change saved in this process (the admin's) shows at once;
# one made elsewhere (here behind the ORM's back, as another process's would be) once the schedule
# is SCHEDULE_RECHECK_SECONDS old.


def starts(client, **params) -> list[str]:
    return [slot["start"][11:16] for slot in get(client, **params).json()["slots"]]


@pytest.fixture
def warm(client, monkeypatch):
    """One clinician, working 9–12 and 13–17, whose schedule this process already holds; and a
    clock for the schedule's age."""
    seconds = [1000.0]
    monkeypatch.setattr(selectors, "clock", lambda: seconds[0])
    clinician = ClinicianFactory(name="Dr. A")
    assert starts(client)[0] == "09:00"
    return clinician, seconds


def later(seconds: list[float]) -> None:
    seconds[0] += selectors.SCHEDULE_RECHECK_SECONDS


def test_working_hours_changed_elsewhere_show_within_the_recheck_time(client, warm, django_assert_num_queries):
    clinician, seconds = warm
    WorkingHours.objects.filter(clinician=clinician, start__hour=9).update(start="10:00")
    assert starts(client)[0] == "09:00"  # kept for up to a second
    later(seconds)
    with django_assert_num_queries(3):
        assert starts(client)[0] == "10:00"
    WorkingHours.objects.filter(clinician=clinician).delete()
    later(seconds)
    assert starts(client) == []


def test_changes_saved_in_this_process_show_at_once(client, warm, django_assert_num_queries):
    clinician, _seconds = warm
    mornings = list(WorkingHours.objects.filter(clinician=clinician, start__hour=9))
    for hours in mornings:
        hours.start = datetime.time(10, 0)
        hours.save()
    with django_assert_num_queries(3):
        assert starts(client)[0] == "10:00"
    clinician.name = "Dr. Renamed"
    clinician.save()
    assert get(client).json()["slots"][0]["clinician"]["name"] == "Dr. Renamed"
    clinician.appointment_types.clear()
    assert starts(client) == []
    clinician.appointment_types.add(AppointmentType.objects.get(slug="consultation"))
    assert starts(client)[0] == "10:00"
    clinician.active = False
    clinician.save()
    assert starts(client) == []
    for hours in mornings:
        hours.delete()
    clinician.active = True
    clinician.save()
    assert starts(client)[0] == "13:00"
    kind = AppointmentType.objects.get(slug="consultation")
    kind.step_minutes = 60
    kind.save()
    assert starts(client)[:2] == ["13:00", "14:00"]


def test_a_clinician_who_stops_offering_the_type_or_taking_bookings_elsewhere_shows_within_the_recheck(client, warm):
    clinician, seconds = warm
    Clinician.objects.filter(pk=clinician.pk).update(name="Dr. Renamed")
    later(seconds)
    assert get(client).json()["slots"][0]["clinician"]["name"] == "Dr. Renamed"
    Clinician.objects.filter(pk=clinician.pk).update(active=False)
    later(seconds)
    assert starts(client) == []
    Clinician.objects.filter(pk=clinician.pk).update(active=True)
    Clinician.appointment_types.through.objects.filter(clinician_id=clinician.pk).delete()
    later(seconds)
    assert starts(client) == []


def test_changed_type_rules_show_within_the_recheck_time(client, warm):
    _clinician, seconds = warm
    AppointmentType.objects.filter(slug="consultation").update(step_minutes=60, buffer_after_minutes=0)
    later(seconds)
    assert starts(client) == ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
    assert get(client).json()["duration_minutes"] == 45
    AppointmentType.objects.filter(slug="consultation").update(active=False)
    later(seconds)
    assert get(client).status_code == 400


def test_time_off_hides_its_slots_at_once(client, warm):
    clinician, _seconds = warm  # time off is read on every request, not kept
    TimeOff.objects.create(clinician=clinician, start=clinic_time(8, 9), end=clinic_time(8, 13))
    assert starts(client)[0] == "13:00"


def test_a_bad_parameter_and_an_unknown_type_name_the_type_first(client):
    assert get(client, type="nope", tz="Mars/Olympus_Mons").json()["error"].startswith("Unknown appointment type")
    assert get(client, tz="Mars/Olympus_Mons").json()["error"].startswith("tz must be")


def test_a_public_read_sets_no_cookie_and_leaves_the_session_alone(client):
    ClinicianFactory()
    response = get(client)
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
