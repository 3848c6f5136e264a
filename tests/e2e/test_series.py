"""A patient with a 6-session IV plan books all six at once on a phone, changing one on the way;
axe on every page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from booking.models import Appointment, AppointmentType
from tests.e2e.test_booking import phone  # noqa: F401 - the 390 x 844 phone fixture
from tests.e2e.test_screening import assert_accessible
from tests.factories import ClinicianFactory, staff_with_role
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def approved_iv_plan():
    """A screening reviewed by a clinician, then a 6-session IV plan 48 hours apart approved on it."""
    from booking.services import treatment_plan_approve
    from screening.models import ReviewDecision
    from screening.services import screening_review

    clinician = staff_with_role("Clinician")
    screening = submitted_screening(personas.ELIGIBLE)
    screening_review(screening=screening, by=clinician, decision=ReviewDecision.CONTACTED, note="Called; suitable.")
    return treatment_plan_approve(
        screening=screening,
        appointment_type=AppointmentType.objects.get(slug="iv-infusion"),
        sessions=6,
        min_hours_between=48,
        note="Six infusions over about three weeks.",
        by=clinician,
    )


def pick_on_this_page(page, day_index: int) -> None:
    page.locator("a.day-link").nth(day_index).click()
    page.wait_for_url("**day=**")
    expect(page.locator("#times h2")).to_be_visible()
    assert_accessible(page)
    page.locator("#times button[name=slot]").first.click()


def test_a_patient_books_six_sessions_at_once_on_a_phone(phone, page_watch):  # noqa: F811
    page = phone
    ClinicianFactory(name="Dr. Sam Ortiz", offers=["iv-infusion"])
    ClinicianFactory(name="Dr. Lee Chen", offers=["iv-infusion"])
    plan = approved_iv_plan()

    page.goto(f"/book/?patient={plan.patient.booking_token}")
    assert "patient=" not in page.url  # the booking link's token leaves the address bar at once
    expect(page.get_by_text("6 of 6 sessions left to book")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Book all 6 remaining sessions at once").click()

    page.wait_for_url("**/series/?tz=**")  # the phone's own zone, detected
    expect(page.get_by_role("heading", level=1)).to_have_text("Session 1 of 6: choose a time")
    assert_accessible(page)
    pick_on_this_page(page, 0)

    page.wait_for_url("**/series/review/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your sessions")
    sessions = page.locator("#sessions-title + ol > li")
    expect(sessions).to_have_count(6)
    expect(sessions.first).to_contain_text("(Central Time — Chicago)")
    expect(page.get_by_label("Full name")).to_have_value("Alex Rivera")  # the plan's patient
    assert_accessible(page)
    page.get_by_role("link", name="Change session 3").click()

    page.wait_for_url("**/series/session/3/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Session 3 of 6: choose a time")
    assert_accessible(page)
    pick_on_this_page(page, 1)  # a later day than the first one the spacing allows

    page.wait_for_url("**/series/review/?changed=3**")
    expect(page.get_by_role("status")).to_contain_text("Session 3 has its new time")
    expect(sessions).to_have_count(6)
    assert_accessible(page)
    page.get_by_role("button", name="Book all 6 sessions").click()

    page.wait_for_url("**/series/booked/")
    expect(page.get_by_role("status")).to_contain_text("You're booked: 6 sessions")
    assert_accessible(page)
    visits = list(Appointment.objects.filter(treatment_plan=plan).order_by("start"))
    assert len(visits) == 6
    assert all(
        later.start - earlier.start >= timedelta(hours=48) for earlier, later in zip(visits, visits[1:], strict=False)
    )
    page.get_by_role("link", name="See, move or cancel session 1").click()
    page.wait_for_url(f"**/appointments/{visits[0].token}/")
    assert_accessible(page)
    assert page_watch.console_errors == []
