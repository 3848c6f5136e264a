"""The SPRAVATO REMS gates: an esketamine visit is booked (by the patient, one session or a
series; by staff in the admin, or moved) and checked in only for a patient whose REMS enrollment
is recorded; the enrollment itself, recorded by a clinician on the patient's record."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail

from booking import selectors, services
from booking.models import Appointment, AppointmentType, Patient
from reminders.models import Reminder
from tests.booking.test_schedule import visit as visit_as_booked
from tests.factories import ClinicianFactory, approved_plan, staff_sign_in, staff_with_role
from treatment import rules

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CLINIC = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC)  # a Monday morning
ESKETAMINE, IV = "esketamine-nasal", "iv-infusion"
PATIENT_WORDS = "enrolls you in the SPRAVATO REMS"
STAFF_WORDS = "SPRAVATO REMS enrollment is not recorded"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinician(clock):
    return ClinicianFactory(name="Dr. Maya Chen", offers=[ESKETAMINE, IV])


def kind(slug: str) -> AppointmentType:
    return AppointmentType.objects.get(slug=slug)


def planned(*, enrolled: bool, slug: str = ESKETAMINE, n: int = 1) -> Patient:
    patient = Patient.objects.create(full_name=f"Alex Rivera{n}", email=f"alex{n}@example.org", phone="5550100123")
    approved_plan(patient, slug, sessions=6, rems_enrolled=enrolled)
    return patient


def free_times(slug: str, count: int = 1) -> list[datetime]:
    """The first free start of each of `count` days (a plan's spacing is 0 here)."""
    slots = selectors.open_slots(
        appointment_type=kind(slug), window_start=NOW, window_end=NOW + timedelta(days=14), now=NOW
    )
    days: dict[date, datetime] = {}
    for slot in slots:
        days.setdefault(slot.start.astimezone(CLINIC).date(), slot.start)
    return list(days.values())[:count]


def book(patient: Patient, slug: str = ESKETAMINE, *, phone: str | None = None) -> Appointment:
    [start] = free_times(slug)
    return services.appointment_book(
        appointment_type=kind(slug),
        clinician_id=None,
        start=start,
        details=services.PatientDetails(patient.full_name, patient.email, phone or patient.phone),
        time_zone="America/New_York",
        request_key="key-1",
        proven_patient=patient,
    )


def nothing_booked() -> bool:
    return not Appointment.objects.exists() and not Reminder.objects.exists() and mail.outbox == []


class TestPatientBooking:
    def test_an_esketamine_session_is_refused_without_enrollment_and_nothing_is_written(self, clinician):
        patient = planned(enrolled=False)
        with pytest.raises(services.RemsRefused) as refused:
            book(patient, phone="(555) 010-9999")  # a new phone typed: not saved either
        assert PATIENT_WORDS in str(refused.value) and "call us on (555) 010-0199" in str(refused.value)
        assert nothing_booked()
        assert Patient.objects.get(pk=patient.pk).phone == "5550100123"

    def test_the_patient_cannot_move_a_visit_of_theirs_that_lacks_the_enrollment(self, unenrolled_visit):
        booked_for = unenrolled_visit.start
        with pytest.raises(services.RemsRefused, match=PATIENT_WORDS):
            services.appointment_reschedule(
                appointment=unenrolled_visit, clinician_id=None, start=booked_for + timedelta(days=1)
            )
        assert Appointment.objects.get(pk=unenrolled_visit.pk).start == booked_for

    def test_once_enrolled_it_is_booked(self, clinician):
        patient = planned(enrolled=True)
        visit = book(patient)
        assert visit.appointment_type.slug == ESKETAMINE and visit.patient == patient

    def test_an_iv_infusion_needs_no_enrollment(self, clinician):
        assert book(planned(enrolled=False, slug=IV), IV).patient.rems_enrolled_on is None

    def test_the_gate_follows_the_chart_rules_not_the_name_of_the_type(self, clinician, monkeypatch):
        monkeypatch.setitem(rules.RULES, IV, replace(rules.RULES[IV], rems=True))
        monkeypatch.setitem(rules.RULES, ESKETAMINE, replace(rules.RULES[ESKETAMINE], rems=False))
        with pytest.raises(services.RemsRefused):
            book(planned(enrolled=False, slug=IV), IV)
        assert book(planned(enrolled=False, n=2)).appointment_type.slug == ESKETAMINE

    def test_a_series_is_refused_whole(self, clinician):
        patient = planned(enrolled=False)
        picks = [(None, start) for start in free_times(ESKETAMINE, 3)]
        assert len(picks) == 3
        plan = patient.treatment_plans.get()
        arguments = {
            "plan": plan,
            "picks": picks,
            "details": services.PatientDetails(patient.full_name, patient.email, patient.phone),
            "time_zone": "America/New_York",
            "request_key": "series",
            "proven_patient": patient,
        }
        with pytest.raises(services.RemsRefused, match=PATIENT_WORDS):
            services.appointment_series_book(**arguments)
        assert nothing_booked()
        services.rems_enrollment_record(patient=patient, enrolled_on=date(2026, 12, 1), by=staff_with_role("Clinician"))
        patient.refresh_from_db()
        assert len(services.appointment_series_book(**{**arguments, "proven_patient": patient})) == 3

    def test_the_patient_sees_why_on_the_booking_pages_and_what_to_do(self, client, clinician):
        patient = planned(enrolled=False)
        client.get(f"/book/?patient={patient.booking_token}")
        start = client.get("/book/").content.decode()
        assert PATIENT_WORDS in start and 'href="/book/esketamine-nasal/"' not in start
        for url in ("/book/esketamine-nasal/", "/book/esketamine-nasal/series/"):
            response = client.get(url)
            assert response.status_code == 403
            html = response.content.decode()
            assert PATIENT_WORDS in html and "(555) 010-0199" in html
        assert nothing_booked()
        Patient.objects.filter(pk=patient.pk).update(rems_enrolled_on=date(2026, 12, 1))
        assert client.get("/book/esketamine-nasal/").status_code == 200


@pytest.fixture
def unenrolled_visit(clinician):
    """An esketamine visit on Tuesday 10:00 of a patient whose enrollment is not recorded (booked
    before the gate, or by hand)."""
    return visit_as_booked(clinician, datetime(2026, 12, 8, 10, 0, tzinfo=CLINIC), slug=ESKETAMINE)


@pytest.fixture
def desk(db):
    return staff_with_role("Front desk")


class TestStaff:
    def test_check_in_is_refused_then_allowed_once_the_enrollment_is_recorded(self, clock, unenrolled_visit, desk):
        clock.move_to(datetime(2026, 12, 8, 9, 50, tzinfo=CLINIC))
        with pytest.raises(services.RemsVisitRefused, match=STAFF_WORDS):
            services.appointment_check_in(appointment=unenrolled_visit, by=desk)
        assert Appointment.objects.get(pk=unenrolled_visit.pk).checked_in_at is None
        services.rems_enrollment_record(
            patient=unenrolled_visit.patient, enrolled_on=date(2026, 12, 1), by=staff_with_role("Clinician")
        )
        checked = services.appointment_check_in(appointment=unenrolled_visit, by=desk)
        assert checked.checked_in_at == datetime(2026, 12, 8, 9, 50, tzinfo=CLINIC)

    def test_the_schedules_check_in_button_says_why(self, client, clock, unenrolled_visit, desk):
        clock.move_to(datetime(2026, 12, 8, 9, 50, tzinfo=CLINIC))
        staff_sign_in(client, desk)
        response = client.post(f"/admin/schedule/visits/{unenrolled_visit.pk}/check_in/", follow=True)
        [message] = response.context["messages"]
        assert message.level_tag == "warning" and STAFF_WORDS in message.message
        assert "records the enrollment date on the patient's record" in message.message
        assert unenrolled_visit.patient.full_name not in message.message  # messages travel in a cookie
        assert Appointment.objects.get(pk=unenrolled_visit.pk).checked_in_at is None

    def test_a_move_is_refused(self, client, unenrolled_visit, desk, clinician):
        with pytest.raises(services.RemsVisitRefused, match=STAFF_WORDS):
            services.appointment_staff_move(
                appointment=unenrolled_visit,
                start=datetime(2026, 12, 9, 10, 0, tzinfo=CLINIC),
                clinician_id=clinician.pk,
                by=desk,
            )
        staff_sign_in(client, desk)
        response = client.post(
            f"/admin/schedule/visits/{unenrolled_visit.pk}/move/",
            {"date": "2026-12-09", "time": "10:00", "clinician": clinician.pk},
        )
        assert response.status_code == 200 and STAFF_WORDS in response.content.decode()
        assert Appointment.objects.get(pk=unenrolled_visit.pk).start == datetime(2026, 12, 8, 10, 0, tzinfo=CLINIC)

    def test_booking_in_the_admin_is_refused_with_the_reason_by_the_patient_field(self, client, clinician, desk):
        patient = Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")
        staff_sign_in(client, desk)
        data = {
            "patient": patient.pk,
            "clinician": clinician.pk,
            "appointment_type": kind(ESKETAMINE).pk,
            "start_0": "2026-12-10",
            "start_1": "10:00:00",
            "status": Appointment.Status.CONFIRMED,
            "time_zone": "America/New_York",
            "reminders-TOTAL_FORMS": "0",
            "reminders-INITIAL_FORMS": "0",
        }
        response = client.post("/admin/booking/appointment/add/", data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert STAFF_WORDS in " ".join(errors["patient"])
        assert STAFF_WORDS in response.content.decode()
        assert nothing_booked()
        Patient.objects.filter(pk=patient.pk).update(rems_enrolled_on=date(2026, 12, 1))
        assert client.post("/admin/booking/appointment/add/", data).status_code == 302
        assert Appointment.objects.get().patient == patient

    def test_the_staff_save_service_refuses_too(self, unenrolled_visit):
        unenrolled_visit.start = datetime(2026, 12, 9, 10, 0, tzinfo=CLINIC)
        with pytest.raises(services.RemsVisitRefused):
            services.appointment_staff_save(appointment=unenrolled_visit, changed=frozenset({"start"}))
        # Editing something else of it (its time zone) or cancelling it is not booking it.
        unenrolled_visit.refresh_from_db()
        unenrolled_visit.time_zone = "America/Chicago"
        services.appointment_staff_save(appointment=unenrolled_visit, changed=frozenset({"time_zone"}))
        unenrolled_visit.status = Appointment.Status.CANCELLED
        services.appointment_staff_save(appointment=unenrolled_visit, changed=frozenset({"status"}))
        assert Appointment.objects.get(pk=unenrolled_visit.pk).status == Appointment.Status.CANCELLED


# --- Recording the enrollment ------------------------------------------------------------------


class TestEnrollmentService:
    def test_records_the_day_who_and_when_in_the_trail(self, clock):
        patient = Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")
        clinician = staff_with_role("Clinician", first_name="Ana", last_name="Diaz")
        services.rems_enrollment_record(patient=patient, enrolled_on=date(2026, 12, 7), by=clinician)
        stored = Patient.objects.get(pk=patient.pk)
        assert (stored.rems_enrolled_on, stored.rems_recorded_by, stored.rems_recorded_at) == (
            date(2026, 12, 7),
            clinician,
            NOW,
        )
        entry = LogEntry.objects.get_for_object(patient).get(changes__has_key="rems_enrolled_on")
        assert entry.actor == clinician and entry.changes["rems_enrolled_on"][1] == "2026-12-07"

    @pytest.mark.parametrize(
        ("day", "words"),
        [
            pytest.param(date(2026, 12, 8), "cannot be in the future", id="tomorrow"),
            pytest.param(date(2019, 3, 4), "SPRAVATO was approved on March 5, 2019", id="before the approval"),
            pytest.param(date(1, 1, 1), "SPRAVATO was approved", id="year 1"),
        ],
    )
    def test_refuses_an_impossible_day(self, clock, day, words):
        patient = Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")
        with pytest.raises(services.ValidationError, match=words):
            services.rems_enrollment_record(patient=patient, enrolled_on=day, by=staff_with_role("Clinician"))
        assert Patient.objects.get(pk=patient.pk).rems_enrolled_on is None

    def test_the_day_of_the_approval_and_today_in_the_clinic_are_accepted(self, clock):
        patient = Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")
        by = staff_with_role("Clinician")
        services.rems_enrollment_record(patient=patient, enrolled_on=date(2019, 3, 5), by=by)
        # 11:30 PM in New York is already tomorrow in UTC: the clinic's day counts.
        clock.move_to(datetime(2026, 12, 7, 23, 30, tzinfo=CLINIC))
        services.rems_enrollment_record(patient=patient, enrolled_on=date(2026, 12, 7), by=by)
        assert Patient.objects.get(pk=patient.pk).rems_enrolled_on == date(2026, 12, 7)


def record_url(patient: Patient) -> str:
    return f"/admin/booking/patient/{patient.pk}/record/"


@pytest.fixture
def sam(db):
    return Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")


class TestEnrollmentOnTheRecord:
    def test_a_clinician_records_it_and_the_record_shows_it_with_who(self, client, clock, sam):
        clinician = staff_with_role("Clinician", first_name="Ana", last_name="Diaz")
        staff_sign_in(client, clinician)
        page = client.get(record_url(sam)).content.decode()
        assert "SPRAVATO REMS" in page and "Not recorded" in page and "Record the enrollment" in page
        response = client.post(record_url(sam) + "rems/", {"enrolled_on": "2026-12-04"})
        assert response.status_code == 302 and response["Location"] == record_url(sam) + "#rems"
        page = client.get(record_url(sam)).content.decode()
        assert '<time datetime="2026-12-04">Dec. 4, 2026</time>' in page
        assert "Mon Dec 07 2026, 08:00 AM EST, by Ana Diaz" in page
        assert "Correct the enrollment date" in page

    @pytest.mark.parametrize(
        ("typed", "words"),
        [
            pytest.param("", "Enter the enrollment date.", id="empty"),
            pytest.param("2026-12-25", "cannot be in the future", id="future"),
            pytest.param("0001-01-01", "SPRAVATO was approved", id="year 1"),
            pytest.param("99999-01-01", "Enter the date as YYYY-MM-DD", id="huge year"),
            pytest.param("2026-02-30", "Enter the date as YYYY-MM-DD", id="no such day"),
            pytest.param("2026-12-01\x00", "Enter the date as YYYY-MM-DD", id="NUL"),
            pytest.param("٢٠٢٦-١٢-٠١", "Enter the date as YYYY-MM-DD", id="Arabic-Indic digits"),
            pytest.param("12/01/2026", "Enter the date as YYYY-MM-DD", id="US order"),
        ],
    )
    def test_bad_dates_are_refused_in_words_keeping_what_was_typed(self, client, clock, sam, typed, words):
        staff_sign_in(client, staff_with_role("Clinician"))
        response = client.post(record_url(sam) + "rems/", {"enrolled_on": typed})
        assert response.status_code == 200
        html = response.content.decode()
        assert words in html and "The enrollment was not recorded:" in html and 'aria-invalid="true"' in html
        if typed and "\x00" not in typed:
            assert f'value="{typed}"' in html
        assert Patient.objects.get(pk=sam.pk).rems_enrolled_on is None

    @pytest.mark.parametrize(("role", "allowed"), [("Front desk", False), ("Clinician", True), ("Manager", True)])
    def test_who_may_record_it(self, client, clock, sam, role, allowed):
        staff_sign_in(client, staff_with_role(role))
        page = client.get(record_url(sam)).content.decode()
        assert ("Record the enrollment" in page) == allowed
        assert "SPRAVATO REMS" in page  # everyone with the record sees whether it is recorded
        response = client.post(record_url(sam) + "rems/", {"enrolled_on": "2026-12-04"})
        assert response.status_code == (302 if allowed else 403)
        assert (Patient.objects.get(pk=sam.pk).rems_enrolled_on is not None) == allowed

    def test_a_get_goes_back_to_the_record_and_the_contact_form_cannot_set_it(self, client, clock, sam):
        staff_sign_in(client, staff_with_role("Manager"))
        response = client.get(record_url(sam) + "rems/")
        assert response.status_code == 302 and response["Location"] == record_url(sam) + "#rems"
        form = client.get(f"/admin/booking/patient/{sam.pk}/change/").context["adminform"].form
        assert "rems_enrolled_on" not in form.fields
