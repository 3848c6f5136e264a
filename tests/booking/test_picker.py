"""The time picker as a patient on a phone meets it, without JavaScript: a day first, then that
day's times, one button each, any clinician unless one is chosen; and what follows a booking."""

import re
from datetime import UTC, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test import Client

from booking import services
from booking.models import Appointment, AppointmentType, Patient
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book, book_through_the_site, choose_through_the_site
from tests.factories import ClinicianFactory, approved_plan
from tests.frame import assert_frame

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]
PICK = "/book/consultation/"


class Controls(HTMLParser):
    """Every form control of a page, and every slot button's value."""

    def __init__(self, html: str):
        super().__init__()
        self.controls: list[str] = []
        self.slots: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "button", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append(tag)
        if tag == "button" and attrs.get("name") == "slot":
            self.slots.append(attrs["value"])


def utc(moment) -> str:
    """A start as the picker writes it in a button's value."""
    return moment.astimezone(UTC).isoformat()


def main_of(html: str) -> str:
    return html.split('<main id="main"')[1].split("</main>")[0]


def test_the_first_page_asks_for_a_day_and_lists_only_days_with_free_times(screened_client):
    ClinicianFactory(hours=[(1, "09:00", "12:00"), (3, "09:00", "12:00")])  # Tuesdays and Thursdays
    html = screened_client.get(PICK).content.decode()
    assert "Choose a day" in html
    days = re.findall(r'href="\?tz=America/New_York&amp;from=2026-12-07&amp;day=(\d{4}-\d\d-\d\d)#times"', html)
    assert days == ["2026-12-08", "2026-12-10", "2026-12-15", "2026-12-17", "2026-12-22", "2026-12-24"]
    assert Controls(html).slots == []  # no time before a day is chosen
    assert_frame(html)


def test_a_day_shows_each_time_once_for_any_clinician(screened_client):
    ClinicianFactory.create_batch(3)
    html = screened_client.get(PICK + "?day=2026-12-08").content.decode()
    slots = Controls(html).slots
    starts = [value.split("|")[0] for value in slots]
    assert len(starts) == len(set(starts)) > 10
    assert all(value.endswith("|any") for value in slots)
    assert slots[0] == f"{utc(clinic_time(8, 9))}|any"
    assert "Tuesday, December 8" in html and "Morning" in html and "Afternoon" in html
    assert "We assign a clinician who is free at the time you pick." in html


def test_a_day_page_fits_a_phone_with_few_controls(screened_client):
    ClinicianFactory.create_batch(3)
    for slug in ("consultation",):
        AppointmentType.objects.filter(slug=slug).update(step_minutes=15)
    html = screened_client.get(PICK + "?day=2026-12-08").content.decode()
    assert len(Controls(html).controls) <= 60


def test_choosing_a_clinician_shows_only_their_times(screened_client):
    first, second = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Okafor")
    book(first, clinic_time(8, 9))
    html = screened_client.get(PICK + f"?day=2026-12-08&clinician={first.pk}").content.decode()
    slots = Controls(html).slots
    assert slots and all(value.endswith(f"|{first.pk}") for value in slots)
    assert f"{utc(clinic_time(8, 9))}|{first.pk}" not in slots
    assert "Times with Dr. Chen." in html
    assert f'<option value="{second.pk}">Dr. Okafor</option>' in html


def test_any_clinician_books_the_one_with_fewer_visits_that_day(screened_client):
    busy, free = ClinicianFactory(name="Dr. Busy"), ClinicianFactory(name="Dr. Free")
    book(busy, clinic_time(8, 13), key="other", n=2)
    response = screened_client.post(PICK + "?day=2026-12-08", {"slot": f"{clinic_time(8, 10).isoformat()}|any"})
    assert response["Location"] == "/book/consultation/details/"
    screened_client.post("/book/consultation/details/", {"full_name": "Alex Rivera", "email": "alex@example.org",
                                                    "phone": "(555) 010-0123"})  # fmt: skip
    page = screened_client.get("/book/consultation/confirm/").content.decode()
    assert "Any clinician free at this time" in page
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    assert screened_client.post("/book/consultation/confirm/", {"request_key": key}).status_code == 302
    assert Appointment.objects.get(patient__email="alex@example.org").clinician == free


def test_any_clinician_at_a_time_only_one_has_free_is_that_one(frozen_now):
    taken, other = ClinicianFactory(), ClinicianFactory()
    book(taken, clinic_time(8, 10), key="first", n=2)
    assert book(None, clinic_time(8, 10), key="any", n=3).clinician == other
    with pytest.raises(services.SlotTaken):
        book(None, clinic_time(8, 10), key="none-left", n=4)


def test_times_inside_the_change_cutoff_are_marked(screened_client):
    ClinicianFactory()
    AppointmentType.objects.filter(slug="consultation").update(min_notice_hours=1)
    today = screened_client.get(PICK + "?day=2026-12-07").content.decode()
    assert today.count('aria-describedby="final-note"') == len(Controls(today).slots) > 0
    assert "once booked, it can't be moved or cancelled online" in unescape(today)
    later = screened_client.get(PICK + "?day=2026-12-09").content.decode()
    assert 'aria-describedby="final-note"' not in later and 'id="final-note"' not in later


@pytest.mark.parametrize(
    "query",
    [
        "day=0001-01-01", "day=9999-12-31", "day=%00", "day=2026-12-%C2%B2", "clinician=%C2%B2",
        "clinician=99999999999999999999999", "clinician=-1", "from=0001-01-01", "tz=%00", "tz=../../etc/passwd",
        "tz=Mars/Olympus", "day=2026-02-30",
    ],
)  # fmt: skip
def test_odd_picker_queries_are_answered_kindly(screened_client, query):
    ClinicianFactory()
    response = screened_client.get(f"{PICK}?{query}")
    assert response.status_code == 200
    assert "Choose a day" in response.content.decode() or "Days with free times" in response.content.decode()


ODD_PICKS = [
    "", "x", "2026-12-08T10:00:00|", "2026-12-08T10:00:00|any", "0001-01-01T00:00:00+05:00|any",
    "9999-12-31T20:00:00-05:00|any", "2026-12-08T10:00:00-05:00|99999999999999999999",
    "2026-12-08T10:00:00-05:00|²", "\x00|any", "2026-12-08T10:07:00-05:00|any", "2026-12-08T03:00:00-05:00|any",
]  # fmt: skip
UNOFFERED = {"2026-12-08T10:07:00-05:00|any", "2026-12-08T03:00:00-05:00|any"}  # readable, never offered


@pytest.mark.parametrize("slot", ODD_PICKS)
def test_odd_or_unoffered_picks_are_refused_kindly_and_nothing_later_fails(screened_client, slot):
    ClinicianFactory()
    response = screened_client.post(PICK, {"slot": slot})
    assert response.status_code == (200 if slot in UNOFFERED else 400)
    assert "Please choose a time." in response.content.decode() or "that time is not free" in response.content.decode()
    # Nothing was kept to trip over one step later.
    assert screened_client.get("/book/consultation/confirm/")["Location"] == PICK


@pytest.mark.parametrize("slot", ODD_PICKS)
def test_odd_picks_when_moving_are_refused_kindly(client, slot):
    appointment = book(ClinicianFactory(), clinic_time(8, 10))
    response = client.post(f"/appointments/{appointment.token}/reschedule/", {"slot": slot})
    assert response.status_code == (200 if slot in UNOFFERED else 400)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.sequence) == (clinic_time(8, 10), 0)


def test_picking_the_same_time_again_for_any_clinician_lands_on_the_booking(screened_client):
    ClinicianFactory.create_batch(2)
    start = f"{utc(clinic_time(8, 10))}|any"
    screened_client.post(PICK, {"slot": start})
    screened_client.post("/book/consultation/details/", {"full_name": "Alex Rivera",
                         "email": "alex@example.org", "phone": "(555) 010-0123"})  # fmt: skip
    page = screened_client.get("/book/consultation/confirm/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    booked = screened_client.post("/book/consultation/confirm/", {"request_key": key})
    again = screened_client.post(PICK, {"slot": start})  # Back to the picker, the same time again
    appointment = Appointment.objects.get()  # one visit, though another clinician was free
    assert again["Location"] == booked["Location"] == f"/appointments/{appointment.token}/?booked=1"


def test_a_double_submitted_confirmation_lands_on_the_booking(screened_client):
    clinician = ClinicianFactory()
    response, key = book_through_the_site(screened_client, clinician)
    again = screened_client.post("/book/consultation/confirm/", {"request_key": key})
    appointment = Appointment.objects.get()
    assert again["Location"] == response["Location"] == f"/appointments/{appointment.token}/?booked=1"
    assert "You're booked" in unescape(screened_client.get(again["Location"]).content.decode())


def test_a_second_tab_confirming_the_same_time_lands_on_the_booking(screened_client):
    clinician = ClinicianFactory()
    first_key = choose_through_the_site(screened_client, clinician)
    second_tab = screened_client.get("/book/consultation/confirm/").content.decode()
    second_key = re.search(r'name="request_key" value="([^"]+)"', second_tab).group(1)
    assert screened_client.post("/book/consultation/confirm/", {"request_key": first_key}).status_code == 302
    again = screened_client.post("/book/consultation/confirm/", {"request_key": second_key})
    appointment = Appointment.objects.get()
    assert again["Location"] == f"/appointments/{appointment.token}/?booked=1"


def test_a_stale_confirm_page_in_another_browser_does_not_find_the_booking(screened_client):
    clinician = ClinicianFactory()
    book_through_the_site(screened_client, clinician)
    stranger = Client()
    response = stranger.post("/book/consultation/confirm/", {"request_key": "guessed"})
    assert response["Location"] == PICK


def test_a_cancelled_visit_offers_to_book_another_time_without_a_token_in_any_address(screened_client):
    clinician = ClinicianFactory()
    book_through_the_site(screened_client, clinician)
    appointment = Appointment.objects.get()
    services.appointment_cancel(appointment=appointment)
    other_browser = Client()  # the patient on their phone, from the cancellation e-mail's link
    page = other_browser.get(f"/appointments/{appointment.token}/").content.decode()
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>.*?Book another time</button>', page, re.S)
    assert form.group(1) == f"/appointments/{appointment.token}/book-again/"
    assert appointment.screening.token not in page and appointment.patient.booking_token not in page
    assert other_browser.get(PICK).status_code == 403  # not yet known as this patient
    assert other_browser.post(form.group(1))["Location"] == "/book/"
    assert other_browser.get(PICK).status_code == 200  # now it may book a consultation again
    assert other_browser.get(f"/appointments/{appointment.token}/book-again/").status_code == 405


def test_a_video_visit_gets_its_own_room_shown_from_shortly_before_the_start(client, settings, time_machine):
    settings.VIDEO_ROOM_BASE_URL = "https://meet.clinic.example.org/"
    settings.VIDEO_LINK_OPENS_MINUTES = 15
    clinician = ClinicianFactory()
    first, second = book(clinician, clinic_time(8, 10)), book(clinician, clinic_time(8, 13), key="k2", n=2)
    assert first.video_room != second.video_room and len(first.video_room) * 6 >= 128
    url = f"https://meet.clinic.example.org/{first.video_room}"
    assert first.video_url == url
    manage = f"/appointments/{first.token}/"
    page = main_of(client.get(manage).content.decode())
    assert url not in page and "appears on this page from 9:45 AM on Tuesday, December 8" in page
    time_machine.move_to(clinic_time(8, 9, 45))
    assert f'href="{url}"' in main_of(client.get(manage).content.decode())
    time_machine.move_to(clinic_time(8, 10, 45))
    assert url not in client.get(manage).content.decode()


def test_an_in_person_visit_has_no_video_room_link(settings):
    settings.VIDEO_ROOM_BASE_URL = "https://meet.clinic.example.org/"
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    approved_plan(patient, "iv-infusion")
    appointment = book(ClinicianFactory(offers=["iv-infusion"]), clinic_time(10, 9), slug="iv-infusion", proven=patient)
    assert appointment.video_url == ""


def test_moving_to_any_clinician(client):
    first, second = ClinicianFactory(), ClinicianFactory()
    appointment = book(first, clinic_time(8, 10))
    book(first, clinic_time(9, 10), key="k2", n=2)
    page = client.get(f"/appointments/{appointment.token}/reschedule/?day=2026-12-09").content.decode()
    assert f"{utc(clinic_time(9, 10))}|any" in Controls(page).slots
    response = client.post(
        f"/appointments/{appointment.token}/reschedule/?day=2026-12-09",
        {"slot": f"{clinic_time(9, 10).isoformat()}|any"},
    )
    assert response["Location"] == f"/appointments/{appointment.token}/?moved=1"
    appointment.refresh_from_db()
    assert (appointment.start, appointment.clinician, appointment.sequence) == (clinic_time(9, 10), second, 1)


def test_query_budget_of_a_day_page(screened_client, django_assert_max_num_queries):
    for clinician in ClinicianFactory.create_batch(3):
        for day in range(8, 12):
            book(clinician, clinic_time(day, 10), key=f"{clinician.pk}-{day}", n=clinician.pk * 100 + day)
    # the session, the screening, the type, its clinicians, then the slots: working hours and busy times
    with django_assert_max_num_queries(6):
        assert screened_client.get(PICK + "?day=2026-12-08").status_code == 200


def test_the_horizon_ends_the_day_list(screened_client):
    ClinicianFactory()
    AppointmentType.objects.filter(slug="consultation").update(horizon_days=10)
    page = screened_client.get(PICK + "?from=2026-12-14").content.decode()
    assert "Later dates" not in page and "Earlier dates" in page
    last = re.findall(r"day=(\d{4}-\d\d-\d\d)#times", page)[-1]
    # 10 days from now (8:00 AM on the 7th) ends before the first time on the 17th.
    assert last == (clinic_time(7, 0) + timedelta(days=9)).date().isoformat()


def test_the_picker_shows_and_books_in_any_zone_by_its_friendly_name(screened_client):
    ClinicianFactory()
    page = screened_client.get("/book/consultation/?tz=Asia/Kathmandu&day=2026-12-08").content.decode()
    assert "Times in Nepal Time — Kathmandu" in page
    assert '<option value="Asia/Kathmandu" selected>Nepal Time — Kathmandu</option>' in page
    assert '<option value="America/New_York">Eastern Time — New York</option>' in page
    assert "7:45 PM" in page  # 9:00 AM in New York
    # The zone is remembered for the next steps and the booking.
    confirm = screened_client.get("/book/consultation/").content.decode()
    assert "Times in Nepal Time — Kathmandu" in confirm


def test_the_day_list_shows_eight_days_then_later_dates_from_the_next(screened_client):
    ClinicianFactory()  # every day
    page = screened_client.get(PICK).content.decode()
    days = re.findall(r"day=(\d{4}-\d\d-\d\d)#times", page)
    assert days == [f"2026-12-{day:02d}" for day in range(8, 16)]  # nothing left today (12 hours' notice)
    assert "from=2026-12-16" in re.search(r'<a href="([^"]+)">Later dates</a>', page).group(1)
    # A day chosen beyond the list is shown all the same.
    later = screened_client.get(PICK + "?day=2026-12-20").content.decode()
    assert "Sunday, December 20" in later and len(Controls(later).slots) > 0
