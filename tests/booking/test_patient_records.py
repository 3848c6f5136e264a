"""A patient's record is theirs: a stranger who types their e-mail address cannot rewrite the
name, phone or date of birth a clinician calls and reminders greet."""

import datetime
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from booking import services
from booking.models import Appointment, AppointmentType, Patient
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from tests.screening import personas
from tests.screening.test_flow import complete
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

BIRTHDAY = datetime.date(1980, 5, 17)


@pytest.fixture
def clinician():
    return ClinicianFactory()


@pytest.fixture
def first_patient(clinician):
    """Patient 1 (patient1@example.org), booked once, with a known date of birth."""
    patient = book(clinician, clinic_time(9, 10), key="first").patient
    patient.date_of_birth = BIRTHDAY
    patient.save(update_fields=["date_of_birth"])
    return patient


def book_on_the_site(client, clinician, *, slug="consultation", start=None, **typed):
    """Pick a time, type details, confirm; the response of the confirm."""
    start = start or clinic_time(8, 10)
    assert client.post(f"/book/{slug}/", {"slot": f"{start.isoformat()}|{clinician.pk}"}).status_code == 302
    fields = {"full_name": "Alex Rivera", "email": "alex@example.org", "phone": "(555) 010-0123", **typed}
    assert client.post(f"/book/{slug}/details/", fields)["Location"] == f"/book/{slug}/confirm/"
    page = client.get(f"/book/{slug}/confirm/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    return client.post(f"/book/{slug}/confirm/", {"request_key": key})


def screened(client):
    """This browser has just finished an eligible screening and followed its result to booking."""
    client.get(f"/book/?screening={complete(client, personas.ELIGIBLE).token}")


def assert_unchanged(patient: Patient) -> None:
    patient.refresh_from_db()
    assert (patient.full_name, patient.email, patient.phone, patient.date_of_birth) == (
        "Patient 1",
        "patient1@example.org",
        "5550100100",
        BIRTHDAY,
    )


def test_a_stranger_typing_a_patients_email_in_other_letters_leaves_the_record_as_it_was(
    client, celery_eager, clinician, first_patient
):
    screened(client)
    response = book_on_the_site(
        client, clinician, full_name="Mallory Stone", email="PATIENT1@Example.ORG", phone="(555) 010-9999"
    )

    assert response.status_code == 302 and "?booked=1" in response["Location"]
    assert_unchanged(first_patient)
    booked = Appointment.objects.latest("pk")
    assert booked.patient != first_patient
    assert (booked.patient.full_name, booked.patient.phone) == ("Mallory Stone", "(555) 010-9999")
    assert booked.patient.details_differ_from == first_patient  # staff see the flag
    # The first patient's own visit still greets and calls them.
    assert first_patient.appointments.get().patient.full_name == "Patient 1"


def test_the_same_person_writing_their_details_another_way_books_on_their_record(
    client, celery_eager, clinician, first_patient
):
    screened(client)
    book_on_the_site(
        client, clinician, full_name="  patient   1 ", email="Patient1@example.org", phone="+1 555-010-0100"
    )

    assert_unchanged(first_patient)
    assert Patient.objects.count() == 1
    assert Appointment.objects.filter(patient=first_patient).count() == 2


def test_repeated_bookings_with_the_same_differing_details_share_one_flagged_record(clinician, first_patient):
    stranger = services.PatientDetails("Mallory Stone", "patient1@example.org", "5550109999")
    records = {services.patient_for_booking(details=stranger) for _ in range(3)}

    assert len(records) == 1
    assert records.pop().details_differ_from == first_patient
    assert_unchanged(first_patient)


def test_a_different_date_of_birth_is_a_different_person(first_patient):
    same_otherwise = services.PatientDetails(
        "Patient 1", "patient1@example.org", "5550100100", datetime.date(1999, 1, 1)
    )

    record = services.patient_for_booking(details=same_otherwise)

    assert record != first_patient and record.details_differ_from == first_patient
    assert_unchanged(first_patient)


def test_a_patient_holding_their_own_booking_link_may_correct_their_phone(
    client, celery_eager, clinician, first_patient
):
    client.get(f"/book/?patient={first_patient.booking_token}")  # the link e-mailed to them
    response = book_on_the_site(
        client, clinician, slug="follow-up", full_name="Patient 1", email="patient1@example.org", phone="(555) 010-4444"
    )

    assert response.status_code == 302
    first_patient.refresh_from_db()
    assert first_patient.phone == "(555) 010-4444"
    assert first_patient.date_of_birth == BIRTHDAY  # a booking form never blanks what it did not ask
    assert Patient.objects.count() == 1


def test_a_booking_link_does_not_let_its_holder_take_over_another_address(
    client, celery_eager, clinician, first_patient
):
    other = book(clinician, clinic_time(10, 10), key="other", n=2).patient
    client.get(f"/book/?patient={other.booking_token}")
    book_on_the_site(
        client, clinician, slug="follow-up", full_name="Someone", email="patient1@example.org", phone="5550107777"
    )

    assert_unchanged(first_patient)
    assert Patient.objects.filter(details_differ_from=first_patient).count() == 1


def test_a_new_address_booked_twice_at_once_makes_one_record(transactional_db, clinician):
    """Two confirms from a double click racing on PostgreSQL: one patient record, not an error."""
    records = []
    details = services.PatientDetails("New", "new@example.org", "5550100000")
    run_at_once(lambda: records.append(services.patient_for_booking(details=details)), 2)

    assert len(records) == 2  # neither raised
    assert len({record.pk for record in records}) == 1


def test_one_screening_books_one_open_consultation_at_a_time(client, celery_eager, clinician):
    screened(client)
    assert book_on_the_site(client, clinician).status_code == 302

    booking = Appointment.objects.get()
    assert client.get("/book/consultation/")["Location"] == f"/appointments/{booking.token}/?booked=1"
    elsewhere = Client()  # the screening's link opened in another browser
    elsewhere.get(f"/book/?screening={booking.screening.token}")
    again = elsewhere.get("/book/consultation/")
    assert again.status_code == 403
    assert "already have a consultation booked" in again.content.decode()

    services.appointment_cancel(appointment=booking)  # cancelled: the screening may book again
    assert elsewhere.get("/book/consultation/").status_code == 200


def test_the_service_refuses_a_second_consultation_for_one_screening(client, celery_eager, clinician):
    screened(client)
    book_on_the_site(client, clinician)
    screening = Appointment.objects.get().screening

    with pytest.raises(services.BookingError, match="already have a consultation"):
        services.appointment_book(
            appointment_type=AppointmentType.objects.get(slug="consultation"),
            clinician_id=clinician.pk,
            start=clinic_time(9, 14),
            details=services.PatientDetails("Alex Rivera", "alex@example.org", "5550100123"),
            time_zone="America/New_York",
            request_key="second",
            screening=screening,
        )
    assert Appointment.objects.count() == 1


def test_typed_details_are_forgotten_after_the_booking_flow_needs_them(
    client, celery_eager, clinician, settings, frozen_now
):
    screened(client)
    client.post("/book/consultation/", {"slot": f"{clinic_time(8, 10).isoformat()}|{clinician.pk}"})
    client.post(
        "/book/consultation/details/", {"full_name": "Sam Typed", "email": "sam@example.org", "phone": "5550100123"}
    )

    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date <= frozen_now + datetime.timedelta(minutes=settings.BOOKING_DETAILS_MINUTES)
    later = frozen_now + datetime.timedelta(minutes=settings.BOOKING_DETAILS_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        response = client.get("/book/consultation/confirm/", follow=True)
        assert "Sam Typed" not in response.content.decode()  # back to the start of booking
        assert "booking_details" not in client.session
        assert not Session.objects.filter(session_key=session.session_key, expire_date__gt=later).exists()


def test_staff_find_the_records_whose_details_differ(client, first_patient):
    flagged = services.patient_for_booking(
        details=services.PatientDetails("Mallory", "patient1@example.org", "5550109999")
    )
    staff_sign_in(client, staff_with_role("Front desk"))

    page = client.get("/admin/booking/patient/?differ=yes").content.decode()

    assert f"Patient #{flagged.pk}" in page and f"Patient #{first_patient.pk}" in page  # the flag names the first
    assert page.count('class="field-__str__"') == 1
