"""Rate limits on the public forms: the N + 1-th request from one address, or for one e-mail
address, gets a kind 429 page with the clinic's phone and the crisis line; others go on."""

import re
from html import unescape

import pytest
from django.test import Client, override_settings

from booking.models import Appointment
from screening.models import Screening
from tests.booking.conftest import (
    clinic_time,
    frozen_now,  # noqa: F401 - the booking tests' clock
)
from tests.factories import ClinicianFactory, StaffUserFactory
from tests.screening import personas
from tests.screening.test_flow import complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

LIMITS = {
    "screening-start": "2/h",
    "screening-submit": "2/h",
    "booking": "2/h",
    "booking-email": "2/d",
    "sign-in": "3/h",
    "slots-api": "3/m",
}


@pytest.fixture(autouse=True)
def limits_on():
    with override_settings(RATELIMIT_ENABLE=True, RATE_LIMITS=LIMITS):
        yield


def visitor(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def about(email: str = "alex@example.org") -> dict:
    slug, data = personas.ELIGIBLE[0]
    assert slug == "about"
    return {**data, "email": email}


def assert_kind_429(response) -> None:
    page = unescape(response.content.decode())
    assert response.status_code == 429
    assert "Please wait a little" in page
    assert 'href="tel:988"' in page and 'href="sms:988"' in page  # the crisis line, at once
    assert "call the clinic on" in page
    assert response["Retry-After"]


def start(client, email="alex@example.org"):
    return client.post("/screening/step/about/", about(email))


def test_the_third_new_screening_from_one_address_is_paused_and_another_address_goes_on():
    client = visitor("203.0.113.7")
    for n in range(2):
        assert start(Client(REMOTE_ADDR="203.0.113.7"), f"person{n}@example.org").status_code == 302

    assert_kind_429(start(client, "person9@example.org"))
    assert start(visitor("198.51.100.4"), "person9@example.org").status_code == 302
    assert Screening.objects.count() == 3


def test_one_email_address_starts_no_more_screenings_from_many_addresses():
    for n in range(2):
        assert start(visitor(f"198.51.100.{n + 1}"), "Same@Example.org").status_code == 302

    assert_kind_429(start(visitor("198.51.100.99"), "same@example.ORG"))


@override_settings(RATE_LIMITS={**LIMITS, "screening-start": "10/h"})
def test_a_paused_submission_keeps_the_answers_and_goes_through_later(client):
    for _ in range(2):
        complete(Client(REMOTE_ADDR="127.0.0.1"), personas.ELIGIBLE)
    for slug, data in personas.ELIGIBLE:
        client.post(f"/screening/step/{slug}/", data)

    paused = client.post("/screening/review/")

    assert_kind_429(paused)
    assert "Nothing you typed is lost" in unescape(paused.content.decode())
    assert client.get("/screening/review/").status_code == 200  # the draft is still theirs
    with override_settings(RATELIMIT_ENABLE=False):  # an hour later, as far as the limit knows
        assert client.post("/screening/review/")["Location"].startswith("/screening/result/")


def book(client, clinician, start, email="alex@example.org"):
    client.post("/book/consultation/", {"slot": f"{start.isoformat()}|{clinician.pk}"})
    client.post("/book/consultation/details/", {"full_name": "Alex Rivera", "email": email, "phone": "(555) 010-0123"})
    page = client.get("/book/consultation/confirm/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    return client.post("/book/consultation/confirm/", {"request_key": key})


def screened(address: str) -> Client:
    client = visitor(address)
    with override_settings(RATELIMIT_ENABLE=False):
        client.get(f"/book/?screening={complete(client, personas.ELIGIBLE).token}")
    return client


def test_the_third_booking_from_one_address_is_paused_with_the_choice_kept():
    clinician = ClinicianFactory()
    for hour in (10, 11):
        assert book(screened("203.0.113.7"), clinician, clinic_time(8, hour), f"p{hour}@example.org").status_code == 302

    client = screened("203.0.113.7")
    paused = book(client, clinician, clinic_time(8, 14), "p14@example.org")

    assert_kind_429(paused)
    assert Appointment.objects.count() == 2
    assert client.get("/book/consultation/confirm/").status_code == 200  # the time and details wait there


def test_one_email_address_books_no_more_than_its_limit_from_many_addresses():
    clinician = ClinicianFactory()
    for n, hour in enumerate((10, 11)):
        assert book(screened(f"198.51.100.{n + 1}"), clinician, clinic_time(8, hour)).status_code == 302

    assert_kind_429(book(screened("198.51.100.50"), clinician, clinic_time(8, 14)))
    assert Appointment.objects.count() == 2


def test_many_staff_names_tried_from_one_address_are_paused():
    StaffUserFactory(username="frontdesk")
    for n in range(3):
        visitor("203.0.113.9").post("/admin/login/", {"username": f"guess{n}", "password": "x"})

    paused = visitor("203.0.113.9").post(
        "/admin/login/", {"username": "frontdesk", "password": "correct-horse-battery-staple"}
    )

    assert paused.status_code == 429
    assert "_auth_user_id" not in visitor("203.0.113.9").session


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_behind_the_proxy_the_address_it_saw_counts_not_what_the_client_wrote():
    """The clinic's proxy appends the client's address; a client adding its own entries in front
    does not get a fresh allowance each time."""
    for n in range(2):
        forged = f"10.0.0.{n}, 203.0.113.7"  # what the client wrote, then what the proxy added
        assert (
            Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forged)
            .post("/screening/step/about/", about(f"x{n}@example.org"))
            .status_code
            == 302
        )

    again = Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="10.0.0.77, 203.0.113.7")
    assert_kind_429(again.post("/screening/step/about/", about("x9@example.org")))
    other = Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="198.51.100.4")  # another patient, same proxy
    assert other.post("/screening/step/about/", about("x9@example.org")).status_code == 302


@pytest.mark.parametrize("hops", [0, 1])
def test_a_forwarded_for_that_is_not_an_address_is_no_error_and_not_in_the_trail(hops):
    from auditlog.models import LogEntry

    client = Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="not-an-address")
    with override_settings(TRUSTED_PROXY_HOPS=hops):
        assert client.post("/screening/step/about/", about()).status_code == 302
    assert set(LogEntry.objects.values_list("remote_addr", flat=True)) == {"10.1.1.1"}


def test_the_slots_api_answers_429_after_its_limit_from_one_address():
    ClinicianFactory()
    query = {"type": "consultation", "start": "2026-12-08", "days": "1", "tz": "America/New_York"}
    for _ in range(3):
        assert visitor("203.0.113.8").get("/api/slots", query).status_code == 200

    refused = visitor("203.0.113.8").get("/api/slots", query)

    assert refused.status_code == 429 and "wait a minute" in refused.json()["error"]
    assert refused["Retry-After"] == "60"
    assert visitor("198.51.100.8").get("/api/slots", query).status_code == 200
