"""Booking as a patient meets it over HTTP, and as the database guarantees it under a race."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from icalendar import Calendar

from booking import services
from booking.models import Appointment, AppointmentType, Patient
from tests.booking.conftest import clinic_time
from tests.factories import ClinicianFactory, approved_plan
from tests.frame import assert_frame
from tests.screening import personas
from tests.screening.test_flow import complete

CONSULTATION_DAY = "2026-12-08"
TEN_AM = clinic_time(8, 10).isoformat()


def details(n: int = 1) -> services.PatientDetails:
    return services.PatientDetails(f"Patient {n}", f"patient{n}@example.org", "5550100100")


def book(clinician, start, *, key="k1", n=1, slug="consultation", proven=None):
    """Book through the service; `clinician` None: any clinician free then. `proven`: the patient
    whose booking link the browser holds (their own details are typed)."""
    typed = details(n) if proven is None else services.PatientDetails(proven.full_name, proven.email, proven.phone)
    return services.appointment_book(
        appointment_type=AppointmentType.objects.get(slug=slug),
        clinician_id=clinician.pk if clinician else None,
        start=start,
        details=typed,
        time_zone="America/New_York",
        request_key=key,
        proven_patient=proven,
    )


def choose_through_the_site(client, clinician, start_iso=TEN_AM) -> str:
    """Pick a time and give details; returns the confirm page's request key."""
    response = client.post("/book/consultation/", {"slot": f"{start_iso}|{clinician.pk}"})
    assert response.status_code == 302 and response["Location"] == "/book/consultation/details/"
    response = client.post(
        "/book/consultation/details/",
        {"full_name": "Alex Rivera", "email": "alex@example.org", "phone": "(555) 010-0123"},
    )
    assert response["Location"] == "/book/consultation/confirm/"
    page = client.get("/book/consultation/confirm/").content.decode()
    return re.search(r'name="request_key" value="([^"]+)"', page).group(1)


def book_through_the_site(client, clinician, start_iso=TEN_AM):
    key = choose_through_the_site(client, clinician, start_iso)
    return client.post("/book/consultation/confirm/", {"request_key": key}), key


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now")
class TestBookingFlow:
    def test_a_screened_patient_books_and_gets_a_confirmation_with_a_calendar_file(
        self, screened_client, django_capture_on_commit_callbacks
    ):
        clinician = ClinicianFactory(name="Dr. A")
        html = screened_client.get("/book/").content.decode()
        assert 'href="/book/consultation/"' in html
        assert "screening=" not in screened_client.get("/book/").wsgi_request.get_full_path()
        picker = screened_client.get("/book/consultation/?tz=America/Chicago&day=" + CONSULTATION_DAY).content.decode()
        assert "8:00 AM" in picker  # 9:00 in New York is 8:00 in Chicago
        with django_capture_on_commit_callbacks(execute=True):
            response, _key = book_through_the_site(screened_client, clinician)
        appointment = Appointment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/appointments/{appointment.token}/?booked=1"
        page = screened_client.get(response["Location"]).content.decode()
        assert "You&#x27;re booked" in page or "You're booked" in page
        assert "Tuesday, December 8, 2026, 9:00 AM–9:45 AM (Central Time — Chicago)" in page
        assert_frame(page)
        [email] = mail.outbox
        assert email.to == ["alex@example.org"]
        assert email.subject == "Your appointment is confirmed"
        assert f"/appointments/{appointment.token}/" in email.body
        assert "Tuesday, December 8, 2026 at 9:00 AM (Central Time — Chicago)" in email.body
        [(name, ics, mime)] = email.attachments
        event = Calendar.from_ical(ics).walk("VEVENT")[0]
        assert (name, mime) == ("appointment.ics", "text/calendar; method=PUBLISH")
        assert event.decoded("dtstart") == clinic_time(8, 10)
        assert str(event.get("summary")) == "Appointment"
        assert email.alternatives[0][1] == "text/html"

    def test_a_resubmitted_confirmation_makes_one_appointment(self, screened_client):
        clinician = ClinicianFactory()
        response, key = book_through_the_site(screened_client, clinician)
        again = screened_client.post("/book/consultation/confirm/", {"request_key": key})
        assert again.status_code == 302
        assert Appointment.objects.count() == 1
        assert book(clinician, clinic_time(8, 10), key=key).pk == Appointment.objects.get().pk

    def test_the_loser_of_a_race_sees_nearby_free_times(self, screened_client):
        clinician = ClinicianFactory()
        key = choose_through_the_site(screened_client, clinician)
        book(clinician, clinic_time(8, 10), key="other", n=2)  # while this person checks their details
        response = screened_client.post("/book/consultation/confirm/", {"request_key": key})
        assert response.status_code == 409
        html = response.content.decode()
        assert "that time was just taken" in html
        assert "Nearest free times" in html and "9:00 AM" in html
        assert Appointment.objects.count() == 1

    def test_consultations_need_a_screening_that_is_not_not_suitable(self, client, celery_eager):
        ClinicianFactory()
        assert client.get("/book/consultation/").status_code == 403
        screening = complete(client, personas.NOT_SUITABLE)
        client.get(f"/book/?screening={screening.token}")
        response = client.get("/book/consultation/")
        assert response.status_code == 403
        assert "cannot offer a consultation online" in response.content.decode()

    def test_treatments_need_staff_approval(self, screened_client):
        ClinicianFactory(offers=["iv-infusion"])
        assert screened_client.get("/book/iv-infusion/").status_code == 403
        patient = Patient.objects.create(full_name="A", email="a@example.org", phone="5550100100")
        screened_client.get(f"/book/?patient={patient.booking_token}")
        assert screened_client.get("/book/iv-infusion/").status_code == 403
        approved_plan(patient, "esketamine-nasal")  # a plan for another treatment books none of this one
        assert screened_client.get("/book/iv-infusion/").status_code == 403
        plan = approved_plan(patient, "iv-infusion", sessions=1)
        assert screened_client.get("/book/iv-infusion/").status_code == 200
        book(None, clinic_time(9, 10), slug="iv-infusion", proven=patient)
        response = screened_client.get("/book/iv-infusion/")
        assert response.status_code == 403  # its one session is booked
        assert "booked every session of your treatment plan" in response.content.decode()
        assert plan.visits.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now", "celery_eager")
class TestManage:
    def test_reschedule_is_one_swap_and_frees_the_old_time(self, client):
        clinician = ClinicianFactory()
        appointment = book(clinician, clinic_time(8, 10))
        new_start = clinic_time(9, 14)
        response = client.post(
            f"/appointments/{appointment.token}/reschedule/", {"slot": f"{new_start.isoformat()}|{clinician.pk}"}
        )
        assert response["Location"] == f"/appointments/{appointment.token}/?moved=1"
        appointment.refresh_from_db()
        assert appointment.start == new_start and appointment.status == "confirmed"
        assert book(clinician, clinic_time(8, 10), key="k2", n=2).start == clinic_time(8, 10)

    def test_cancel_with_a_reason_frees_the_time_at_once(self, client):
        clinician = ClinicianFactory()
        appointment = book(clinician, clinic_time(8, 10))
        page = client.get(f"/appointments/{appointment.token}/cancel/").content.decode()
        assert "Reason (optional)" in page
        client.post(f"/appointments/{appointment.token}/cancel/", {"reason": "Feeling better"})
        appointment.refresh_from_db()
        assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Feeling better")
        assert book(clinician, clinic_time(8, 10), key="k2", n=2).status == "confirmed"

    def test_changes_are_refused_after_the_cutoff_with_the_phone_shown(self, client, time_machine):
        clinician = ClinicianFactory()
        appointment = book(clinician, clinic_time(8, 10))
        time_machine.move_to(clinic_time(7, 10, 30))  # 23.5 hours before
        page = client.get(f"/appointments/{appointment.token}/").content.decode()
        assert "too late to change this appointment online" in page and "(555) 010-0199" in page
        assert client.post(f"/appointments/{appointment.token}/cancel/", {"reason": ""})["Location"].endswith(
            f"/appointments/{appointment.token}/"
        )
        appointment.refresh_from_db()
        assert appointment.status == "confirmed"
        with pytest.raises(services.ChangeTooLate):
            services.appointment_cancel(appointment=appointment)

    def test_calendar_file_download(self, client):
        appointment = book(ClinicianFactory(), clinic_time(8, 10))
        response = client.get(f"/appointments/{appointment.token}/calendar.ics")
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert Calendar.from_ical(response.content).walk("VEVENT")[0].decoded("dtend") == clinic_time(8, 10, 45)

    def test_unknown_token_is_404(self, client):
        assert client.get("/appointments/not-a-token/").status_code == 404


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_database_refuses_overlapping_visits_of_one_clinician(frozen_now):
    clinician = ClinicianFactory()
    first = book(clinician, clinic_time(8, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            patient=first.patient, clinician=clinician, appointment_type=first.appointment_type,
            start=first.start + timedelta(minutes=30), end=first.end + timedelta(minutes=30),
            blocked_start=first.blocked_start + timedelta(minutes=30),
            blocked_end=first.blocked_end + timedelta(minutes=30),
            time_zone="UTC",
        )  # fmt: skip


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_patients_racing_for_one_slot_book_exactly_one(frozen_now):
    assert connection.vendor == "postgresql"
    clinician = ClinicianFactory()
    barrier, results = threading.Barrier(20), []

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            results.append(book(clinician, clinic_time(8, 10), key=f"race-{n}", n=n))
        except services.SlotTaken:
            results.append("taken")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert results.count("taken") == 19
    assert Appointment.objects.active().count() == 1


@pytest.mark.django_db
def test_query_budgets_of_the_booking_pages(client, frozen_now, django_assert_max_num_queries, celery_eager):
    clinician = ClinicianFactory()
    appointment = book(clinician, clinic_time(8, 10))
    with django_assert_max_num_queries(1):  # the appointment types
        assert client.get("/book/").status_code == 200
    # the appointment, with its type, clinician and patient; whether a plan has sessions to book;
    # the patient's scores (their screenings' and their measurements: treatment/measurements.py)
    with django_assert_max_num_queries(4):
        assert client.get(f"/appointments/{appointment.token}/").status_code == 200
    # the appointment, the type's clinicians (to choose one), then the slots: working hours and busy times
    with django_assert_max_num_queries(4):
        assert client.get(f"/appointments/{appointment.token}/reschedule/").status_code == 200
    with django_assert_max_num_queries(1):  # the appointment, with its type
        assert client.get(f"/appointments/{appointment.token}/ride/").status_code == 200
