"""Booking in Chromium: book, open the manage link, move, cancel; axe on every step."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from booking.models import Appointment
from tests.factories import ClinicianFactory
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def assert_accessible(page):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_book_manage_move_and_cancel(chicago_page, page_watch):
    page = chicago_page
    ClinicianFactory(name="Dr. Maya Chen")
    screening = submitted_screening(personas.ELIGIBLE)

    page.goto(f"/book/?screening={screening.token}")
    assert "screening=" not in page.url  # the token leaves the address bar at once
    assert_accessible(page)
    page.get_by_role("link", name="Choose a time for: Consultation").click()
    page.wait_for_load_state("networkidle")
    assert "tz=America%2FChicago" in page.url  # the browser's zone was detected and applied
    assert page.get_by_label("Times are shown in this time zone").input_value() == "America/Chicago"
    assert_accessible(page)
    # Two days ahead at least: a visit inside the 24-hour cutoff could not be moved online.
    page.locator("fieldset.slot-day").nth(2).locator("input[type=radio]").first.check()
    page.get_by_role("button", name="Continue with this time").click()

    page.wait_for_url("**/details/")
    assert page.get_by_label("Full name").input_value() == "Alex Rivera"  # from the screening
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/confirm/")
    assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url("**/appointments/**")
    assert page.get_by_role("status").inner_text().startswith("You're booked")
    assert_accessible(page)
    appointment = Appointment.objects.get()
    first_start = appointment.start

    page.get_by_role("link", name="Move to another time").click()
    page.wait_for_url("**/reschedule/**")
    assert_accessible(page)
    page.locator("fieldset.slot-day").nth(3).locator("input[type=radio]").first.check()
    page.get_by_role("button", name="Continue with this time").click()
    page.wait_for_url("**/appointments/**?moved=1")
    assert_accessible(page)
    appointment.refresh_from_db()
    assert appointment.start != first_start and appointment.status == "confirmed"

    page.get_by_role("link", name="Cancel appointment").click()
    page.wait_for_url("**/cancel/")
    assert_accessible(page)
    page.get_by_label("Reason (optional)").fill("Found a closer clinic")
    page.get_by_role("button", name="Cancel appointment").click()
    page.wait_for_url(f"**/appointments/{appointment.token}/")
    assert page.get_by_text("This appointment is cancelled").is_visible()
    assert_accessible(page)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Found a closer clinic")
    assert page_watch.console_errors == []


def test_the_ride_home_link_from_the_preparation_email_by_keyboard(page, page_watch):
    """The preparation reminder's link, opened and confirmed by keyboard only; axe on both pages."""
    import re
    from datetime import timedelta
    from urllib.parse import urlsplit

    from django.utils import timezone

    from booking import selectors, services
    from booking.emails import reminder_email
    from booking.models import AppointmentType, Reminder

    ClinicianFactory(name="Dr. Sam Ortiz", offers=["iv-infusion"])
    infusion = AppointmentType.objects.get(slug="iv-infusion")
    now = timezone.now()
    slot = selectors.open_slots(
        appointment_type=infusion, window_start=now, window_end=now + timedelta(days=7), now=now
    )[0]
    visit = services.appointment_book(
        appointment_type=infusion,
        clinician_id=slot.clinician_id,
        start=slot.start,
        details=services.PatientDetails("Jordan Lee", "jordan@example.org", "5550100100"),
        time_zone="America/New_York",
        request_key="e2e-ride",
    )
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
