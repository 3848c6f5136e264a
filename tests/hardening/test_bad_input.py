"""Malformed addresses and parameters are answered with a 4xx, never a server error, and are
refused before they reach the database (PostgreSQL refuses a NUL in a query outright, and a
bigint holds 19 digits)."""

import re

import pytest

from booking.models import Appointment
from tests.booking import conftest as booking_fixtures
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory

frozen_now, screened_client = booking_fixtures.frozen_now, booking_fixtures.screened_client  # shared fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TEN_AM = clinic_time(8, 10).isoformat()
HUGE_CLINICIAN_PICK = f"{TEN_AM}|99999999999999999999"

# Every address holding a patient's secret token, as (method, path with {} for the token).
TOKEN_PAGES = [
    ("GET", "/appointments/{}/"),
    ("GET", "/appointments/{}/reschedule/"),
    ("POST", "/appointments/{}/reschedule/"),
    ("GET", "/appointments/{}/cancel/"),
    ("POST", "/appointments/{}/cancel/"),
    ("GET", "/appointments/{}/ride/"),
    ("POST", "/appointments/{}/ride/"),
    ("POST", "/appointments/{}/book-again/"),
    ("GET", "/appointments/{}/calendar.ics"),
    ("GET", "/screening/result/{}/"),
]
BAD_TOKENS = [
    "%00abc",  # NUL
    "%00x",
    "%00" + "a" * 43,  # a token's length, with a NUL in front
    "a" * 65,  # longer than the column
    "%ED%A0%80" * 8,  # a lone surrogate, as bytes
    "%C2%B2" * 20,  # Unicode digits
]


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize(("method", "page"), TOKEN_PAGES)
def test_a_malformed_token_in_an_address_is_not_found_without_a_query(
    client, django_assert_num_queries, method, page, token
):
    with django_assert_num_queries(0):
        response = client.generic(method, page.format(token))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"type": "\x00"}, "Unknown appointment type"),
        ({"type": "consultation\x00"}, "Unknown appointment type"),
        ({"start": "0001-01-01"}, "start is out of range"),
        ({"start": "9999-12-31"}, "start is out of range"),
        ({"start": "9999-12-30"}, "start is out of range"),
        ({"days": "²"}, "days must be a whole number"),
        ({"days": "٣"}, "days must be a whole number"),  # int() would read it as 3
        ({"days": "1" * 30}, "days must be a whole number"),
        ({"clinician": "²"}, "clinician must be a clinician id"),
        ({"clinician": "٣"}, "clinician must be a clinician id"),
        ({"clinician": "99999999999999999999999"}, "clinician must be a clinician id"),
        ({"clinician": "9223372036854775808"}, "clinician must be a clinician id"),  # one past bigint
        ({"tz": "America/New_York\x00"}, "tz must be"),
    ],
)
def test_slots_api_explains_a_bad_parameter_in_json(client, django_assert_max_num_queries, params, complaint):
    query = {"type": "consultation", "start": "2026-12-08", "days": "1", "tz": "America/New_York", **params}
    with django_assert_max_num_queries(1):  # at most the check that the type exists, to name it first
        response = client.get("/api/slots", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith(complaint)


def test_the_largest_clinician_id_is_asked_about_and_matches_nobody(client):
    ClinicianFactory()
    response = client.get(
        "/api/slots",
        {"type": "consultation", "start": "2026-12-08", "tz": "UTC", "clinician": "9223372036854775807"},
    )
    assert response.status_code == 200
    assert response.json()["slots"] == []


# --- Times posted by the picker (needs the booking/views.py change in the hardening report) -------


def test_a_pick_with_an_unreadable_clinician_is_a_400_and_nothing_is_kept(screened_client):
    ClinicianFactory()
    response = screened_client.post("/book/consultation/", {"slot": HUGE_CLINICIAN_PICK})
    assert response.status_code == 400
    assert "Please choose a time." in response.content.decode()
    assert screened_client.get("/book/consultation/details/")["Location"] == "/book/consultation/"


def test_a_move_to_an_unreadable_clinician_is_a_400_and_the_visit_stays(client):
    visit = book(ClinicianFactory(), clinic_time(9, 10))
    response = client.post(f"/appointments/{visit.token}/reschedule/", {"slot": HUGE_CLINICIAN_PICK})
    assert response.status_code == 400
    assert "Please choose a time." in response.content.decode()
    visit.refresh_from_db()
    assert (visit.start, visit.sequence) == (clinic_time(9, 10), 0)


def chosen_and_detailed(client, clinician) -> None:
    """Through the picker and the details page, up to the confirm page."""
    assert client.post("/book/consultation/", {"slot": f"{TEN_AM}|{clinician.pk}"}).status_code == 302
    details = {"full_name": "Alex Rivera", "email": "alex@example.org", "phone": "(555) 010-0123"}
    assert client.post("/book/consultation/details/", details).status_code == 302


def test_a_time_posted_to_confirm_cannot_change_the_one_picked(screened_client):
    """Confirm takes its time from the session, which the browser cannot write: a slot in the form is
    ignored, whatever it holds."""
    clinician = ClinicianFactory()
    chosen_and_detailed(screened_client, clinician)
    page = screened_client.get("/book/consultation/confirm/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    response = screened_client.post("/book/consultation/confirm/", {"request_key": key, "slot": HUGE_CLINICIAN_PICK})
    visit = Appointment.objects.get()
    assert response["Location"] == f"/appointments/{visit.token}/?booked=1"
    assert (visit.start, visit.clinician) == (clinic_time(8, 10), clinician)


# --- Keys and tokens a browser hands back (need the booking/views.py change in the report) ----------


@pytest.mark.parametrize("request_key", ["\x00", "a\x00" * 11, "x" * 65])
def test_a_confirm_form_with_a_malformed_key_books_once_however_often_it_is_sent(screened_client, request_key):
    """A key the page did not draw finds no earlier booking; a fresh one is drawn, and the second
    send lands on the booking the first made."""
    clinician = ClinicianFactory()
    chosen_and_detailed(screened_client, clinician)
    first = screened_client.post("/book/consultation/confirm/", {"request_key": request_key})
    again = screened_client.post("/book/consultation/confirm/", {"request_key": request_key})
    visit = Appointment.objects.get()
    assert first["Location"] == again["Location"] == f"/appointments/{visit.token}/?booked=1"


@pytest.mark.parametrize("link", ["/book/?screening=%00", "/book/?patient=%00", "/book/?screening=%ED%A0%80"])
def test_a_booking_link_with_a_malformed_token_leads_to_the_booking_page(client, link):
    assert client.get(link).status_code == 302
    assert client.get("/book/").status_code == 200
    assert client.get("/book/consultation/").status_code == 403  # not screened: asked to screen first
