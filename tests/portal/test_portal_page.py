"""The signed-in portal: every visit of the address with its actions, results, plans and scores;
nothing of anybody else's; a fixed number of queries."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import Appointment, Patient
from booking.views import SESSION_PATIENT
from reminders.emails import confirmation_email
from screening.models import Screening
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import approved_plan
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def visit_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-visit="(\d+)"', html)}


def page(client) -> str:
    return client.get("/my/").content.decode()


def test_the_patient_sees_both_visits_with_their_actions_and_local_times(client, two_visits):
    first, second = two_visits
    Appointment.objects.filter(pk=second.pk).update(time_zone="America/Los_Angeles")
    sign_in(client)
    html = page(client)

    assert visit_ids(html) == {first.pk, second.pk}
    assert "Wednesday, December 9, 2026" in html and "10:00 AM" in html  # the clinic's clock
    assert "Thursday, December 10, 2026" in html and "11:00 AM" in html and "Pacific Time" in html  # the patient's
    for visit in two_visits:
        assert f"/appointments/{visit.token}/reschedule/" in html
        assert f"/appointments/{visit.token}/calendar.ics" in html
        assert f"/my/visits/{visit.pk}/cancel/" in html
    assert "Book a follow-up" in html


def test_one_patient_never_sees_or_cancels_another_patients_visit(client, two_visits, clinician):
    other = book(clinician, clinic_time(11, 10), key="other", n=2)
    sign_in(client)
    assert other.pk not in visit_ids(page(client))
    assert other.token not in page(client)

    assert client.get(f"/my/visits/{other.pk}/cancel/").status_code == 404
    assert client.post(f"/my/visits/{other.pk}/cancel/", {"reason": ""}).status_code == 404
    other.refresh_from_db()
    assert other.status == Appointment.Status.CONFIRMED
    # Signed out, nobody cancels anything.
    assert Client().post(f"/my/visits/{two_visits[0].pk}/cancel/").status_code == 302
    assert Appointment.objects.filter(status=Appointment.Status.CANCELLED).count() == 0


def test_cancelling_from_the_portal_goes_through_bookings_cancel(
    client, two_visits, django_capture_on_commit_callbacks
):
    first, second = two_visits
    sign_in(client)
    form = client.get(f"/my/visits/{first.pk}/cancel/").content.decode()
    assert "Keep my appointment" in form and "Wednesday, December 9" in form
    response = client.post(f"/my/visits/{first.pk}/cancel/", {"reason": "Feeling better"}, follow=True)
    html = response.content.decode()

    first.refresh_from_db()
    assert first.status == Appointment.Status.CANCELLED and first.cancel_reason == "Feeling better"
    assert first.reminders.filter(kind="cancellation").exists()  # the notice goes as for any cancel
    assert "Your appointment is cancelled" in html
    upcoming = html.split("Past and cancelled visits")[0]
    assert visit_ids(upcoming) == {second.pk}
    # Its own page, now a cancelled visit's, leads back to the portal.
    assert 'href="/my/"' in Client().get(f"/appointments/{first.token}/").content.decode()


def test_records_of_the_same_address_with_other_details_are_shown_and_other_addresses_are_not(
    client, two_visits, clinician
):
    # Somebody booked with patient1's address but another name: a flagged record of its own,
    # whose confirmation went to this very address.
    differing = Appointment.objects.get(pk=book_as(clinician, "Mallory Stone", "PATIENT1@example.org").pk)
    assert differing.patient.details_differ_from == two_visits[0].patient
    elsewhere = book(clinician, clinic_time(11, 14), key="else", n=3)
    sign_in(client)
    assert visit_ids(page(client)) == {two_visits[0].pk, two_visits[1].pk, differing.pk}
    assert elsewhere.pk not in visit_ids(page(client))


def book_as(clinician, name: str, email: str):
    from booking import services
    from booking.models import AppointmentType

    return services.appointment_book(
        appointment_type=AppointmentType.objects.get(slug="consultation"),
        clinician_id=clinician.pk,
        start=clinic_time(10, 10),
        details=services.PatientDetails(name, email, "5550109999"),
        time_zone="America/New_York",
        request_key="differ",
    )


def test_results_plans_and_scores_without_staff_notes(client, two_visits):
    patient = two_visits[0].patient
    plan = approved_plan(patient, "iv-infusion", sessions=6)
    Screening.objects.filter(pk=plan.screening_id).update(
        phq9_total=14, phq9_band="moderate", gad7_total=8, gad7_band="mild", review_note="Staff only: call her GP"
    )
    sign_in(client)
    html = page(client)

    assert "Your screening results" in html and "PHQ-9 (mood): 14 of 27 — moderate" in html
    assert "Staff only" not in html
    assert "6 of 6 sessions left to book." in html
    assert "How you have been" in html and "PHQ-9 and GAD-7 scores over time" in html

    response = client.post("/my/book/", {"plan": str(plan.pk)})
    assert response["Location"] == "/book/" and client.session[SESSION_PATIENT] == patient.booking_token


def test_booking_a_follow_up_from_the_portal(client, two_visits):
    sign_in(client)
    response = client.post("/my/book/")
    assert response["Location"] == "/book/follow-up/"
    assert client.session[SESSION_PATIENT] == two_visits[0].patient.booking_token


def test_another_patients_plan_is_not_booked_from_the_portal(client, two_visits, clinician):
    other = book(clinician, clinic_time(11, 10), key="other", n=2).patient
    plan = approved_plan(other, "iv-infusion", sessions=3)
    sign_in(client)
    response = client.post("/my/book/", {"plan": str(plan.pk)})
    assert response["Location"] == "/my/" and SESSION_PATIENT not in client.session
    assert client.post("/my/book/", {"plan": "9" * 40}).status_code == 302  # never a 500


def test_the_portal_costs_the_same_queries_for_two_visits_as_for_twenty(client, two_visits, clinician):
    patient = two_visits[0].patient
    approved_plan(patient, "iv-infusion", sessions=6)
    sign_in(client)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/my/").status_code == 200
    for n in range(18):
        book(clinician, clinic_time(15 + n // 6, (9, 10, 11, 13, 14, 15)[n % 6]), key=f"more{n}", n=1)
    assert Appointment.objects.filter(patient=patient).count() == 20
    with CaptureQueriesContext(connection) as many:
        html = page(client)
    assert len(visit_ids(html)) == 20
    # The session, the patient, their records, then one query per kind of thing; the session saved.
    assert len(many) == len(few) <= 11, [query["sql"] for query in many]


def test_every_patient_email_links_to_the_portal_as_well_as_to_its_visit(two_visits, settings):
    message = confirmation_email(two_visits[0])
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert f"{settings.SITE_URL}/my/" in body
        assert f"{settings.SITE_URL}/appointments/{two_visits[0].token}/" in body
    assert "All your appointments:" in message.body
    assert mail.outbox == []
    assert Patient.objects.count() == 1
