"""Booking in Chromium on a phone: a day, then a time; the manage link, move, cancel, and the calendar
files that follow; axe on every step."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar

from booking.models import Appointment
from tests.e2e.conftest import _page
from tests.factories import ClinicianFactory, treatment_patient
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def assert_accessible(page):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture
def phone(browser, live_server, page_watch):
    """A phone of today's common size (390 x 844 CSS pixels), set to Central time."""
    context, page = _page(
        browser,
        live_server,
        page_watch,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        timezone_id="America/Chicago",
    )
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"


def controls(page) -> int:
    return page.locator("main").locator("input:not([type=hidden]), button, select, textarea").count()


def calendar_event(page, appointment):
    """The visit's .ics as the patient's browser downloads it, parsed."""
    response = page.request.get(f"/appointments/{appointment.token}/calendar.ics")
    assert response.ok
    calendar = Calendar.from_ical(response.body())
    return calendar, calendar.walk("VEVENT")[0]


def pick_day_then_time(page, day_index: int) -> None:
    """On the picker: a day first (a link), then that day's first time (a button)."""
    assert page.locator("main button[name=slot]").count() == 0 or "day=" in page.url
    page.locator("a.day-link").nth(day_index).click()
    page.wait_for_url("**day=**")
    assert page.locator("#times h2").is_visible()
    assert controls(page) <= 60  # about two phone screens, not a wall of radio buttons
    assert_accessible(page)
    page.locator("#times button[name=slot]").first.click()


def test_book_on_a_phone_then_move_and_cancel_with_calendars_that_follow(phone, page_watch):
    page = phone
    ClinicianFactory.create_batch(3)
    screening = submitted_screening(personas.ELIGIBLE)

    page.goto(f"/book/?screening={screening.token}")
    assert "screening=" not in page.url  # the token leaves the address bar at once
    assert_accessible(page)
    page.get_by_role("link", name="Choose a time for: Consultation").click()
    page.wait_for_load_state("networkidle")
    assert "tz=America%2FChicago" in page.url  # the browser's zone was detected and applied
    assert "Times in Central Time — Chicago" in page.locator("main summary").inner_text()
    assert page.locator("main button[name=slot]").count() == 0  # a day is chosen first
    assert_accessible(page)
    page.locator("main summary").click()  # the time zone and clinician choices, folded away
    assert page.get_by_label("Time zone").input_value() == "America/Chicago"
    assert_accessible(page)
    # Two days ahead at least: a visit inside the 24-hour cutoff could not be moved online.
    pick_day_then_time(page, 2)

    page.wait_for_url("**/details/")
    assert page.get_by_label("Full name").input_value() == "Alex Rivera"  # from the screening
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/confirm/")
    assert page.get_by_text("Any clinician free at this time").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url("**/appointments/**")
    assert page.get_by_role("status").inner_text().startswith("You're booked")
    assert_accessible(page)
    appointment = Appointment.objects.get()
    first_start = appointment.start
    booked_calendar, booked = calendar_event(page, appointment)

    page.get_by_role("link", name="Move to another time").click()
    page.wait_for_url("**/reschedule/**")
    assert_accessible(page)
    pick_day_then_time(page, 3)
    page.wait_for_url("**/appointments/**?moved=1")
    assert_accessible(page)
    appointment.refresh_from_db()
    assert appointment.start != first_start and appointment.status == "confirmed"
    _moved_calendar, moved = calendar_event(page, appointment)

    page.get_by_role("link", name="Cancel appointment").click()
    page.wait_for_url("**/cancel/")
    assert_accessible(page)
    page.get_by_label("Reason (optional)").fill("Found a closer clinic")
    page.get_by_role("button", name="Cancel appointment").click()
    page.wait_for_url(f"**/appointments/{appointment.token}/")
    assert page.get_by_text("This appointment is cancelled").is_visible()
    assert page.get_by_role("button", name="Book another time").is_visible()
    assert_accessible(page)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Found a closer clinic")
    cancelled_calendar, cancelled = calendar_event(page, appointment)

    assert booked["uid"] == moved["uid"] == cancelled["uid"]
    assert int(booked["sequence"]) < int(moved["sequence"]) < int(cancelled["sequence"])
    assert moved.decoded("dtstart") == appointment.start
    assert str(booked_calendar["method"]) == "PUBLISH"
    assert str(cancelled_calendar["method"]) == "CANCEL" and str(cancelled["status"]) == "CANCELLED"
    assert page_watch.console_errors == []


def book_an_infusion(*, patient: str, key: str, clinician: str = "Dr. Sam Ortiz"):
    """An IV infusion at the first free time this week, booked as the clinic's site would."""
    from django.utils import timezone

    from booking import selectors, services
    from booking.models import AppointmentType

    ClinicianFactory(name=clinician, offers=["iv-infusion"])
    infusion = AppointmentType.objects.get(slug="iv-infusion")
    now = timezone.now()
    slot = selectors.open_slots(
        appointment_type=infusion, window_start=now, window_end=now + timedelta(days=7), now=now
    )[0]
    details = services.PatientDetails(patient, f"{patient.split()[0].lower()}@example.org", "5550100100")
    return services.appointment_book(
        appointment_type=infusion,
        clinician_id=slot.clinician_id,
        start=slot.start,
        details=details,
        time_zone="America/New_York",
        request_key=key,
        proven_patient=treatment_patient(details, "iv-infusion"),
    )


def test_a_treatments_calendar_covers_its_recovery(page):
    visit = book_an_infusion(patient="Jordan Lee", key="e2e-ics")
    page.goto(f"/appointments/{visit.token}/")
    assert_accessible(page)
    _calendar, event = calendar_event(page, visit)
    assert event.decoded("dtend") == visit.start + timedelta(minutes=40 + 60)  # the infusion, then recovery


def test_the_ride_home_link_from_the_preparation_email_by_keyboard(page, page_watch):
    """The preparation reminder's link, opened and confirmed by keyboard only; axe on both pages."""
    import re
    from urllib.parse import urlsplit

    from reminders.emails import reminder_email
    from reminders.models import Reminder

    visit = book_an_infusion(patient="Jordan Lee", key="e2e-ride")
    email = reminder_email(Reminder.objects.get(appointment=visit, kind="preparation"))
    page.goto(urlsplit(re.search(r"http\S+/ride/", email.body).group(0)).path)
    assert_accessible(page)
    button = page.get_by_role("button", name="My ride home is arranged")
    for _ in range(40):  # Tab through the page until the button has focus, as a keyboard user would
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**?ride=1")
    assert "your ride home is arranged" in page.get_by_role("status").inner_text()
    assert page.get_by_text("Arranged — thank you for telling us.").is_visible()
    assert_accessible(page)
    visit.refresh_from_db()
    assert visit.ride_confirmed_at is not None
    assert page_watch.console_errors == []
