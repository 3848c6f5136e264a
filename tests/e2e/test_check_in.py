"""A patient checks in on their phone the day before a treatment: a question left out is found
from the error summary by keyboard, a safety answer brings the crisis lines first on the next
page (and one alert to staff), and the visit page then shows the trend. Axe on every page."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.models import Appointment, AppointmentType, Patient
from booking.services import visit_times
from screening.models import Outcome, Screening
from tests.e2e.test_schedule import sign_in
from tests.e2e.test_screening import assert_accessible
from tests.factories import ClinicianFactory, staff_with_role
from treatment.models import Measurement

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def visit(settings):
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    screening = Screening.objects.create(
        email=patient.email,
        outcome=Outcome.ELIGIBLE,
        submitted_at=timezone.now() - datetime.timedelta(days=40),
        phq9_total=19,
        phq9_band="moderately severe",
        gad7_total=14,
        gad7_band="moderate",
    )
    kind = AppointmentType.objects.get(slug="esketamine-nasal")
    start = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0)
    end, held_from, held_until = visit_times(kind, start)
    return Appointment.objects.create(
        patient=patient,
        clinician=ClinicianFactory(offers=["esketamine-nasal"]),
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=held_from,
        blocked_end=held_until,
        screening=screening,
    )


def answer(page, answers: list[int]) -> None:
    for number, value in enumerate(answers, start=1):
        page.locator(f'[name="item_{number}"][value="{value}"]').check()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_patient_checks_in_on_a_phone_and_a_safety_answer_brings_help_first(phone_page, page_watch, visit):
    page = phone_page
    page.goto(f"/appointments/{visit.token}/check-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mood (PHQ-9)")
    assert_accessible(page)
    assert fits_the_phone(page)

    # Eight answers, the first left out: the summary names it, and the keyboard gets there.
    for number, value in enumerate([1, 1, 2, 1, 1, 1, 0, 2], start=2):
        page.locator(f'[name="item_{number}"][value="{value}"]').check()
    page.get_by_role("button", name="Send my answers").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please choose an answer for question 1.")
    assert_accessible(page)
    expect(page.locator('[name="item_9"][value="2"]')).to_be_checked()  # nothing answered is lost
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#id_item_1")).to_be_focused()  # the question's group, its legend the question
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator('[name="item_1"][value="0"]')).to_be_checked()
    page.get_by_role("button", name="Send my answers").click()

    # Help first, then the next questionnaire below it.
    help_now = page.get_by_role("alert")
    expect(help_now.get_by_role("heading", level=1)).to_have_text("Thank you for telling us. Support is here now")
    expect(help_now.get_by_role("link", name="Call 988")).to_be_visible()
    expect(help_now.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(help_now.get_by_role("link", name="911")).to_have_attribute("href", "tel:911")
    expect(page.get_by_role("heading", name="When you are ready: Anxiety (GAD-7)")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    [alert] = mail.outbox
    assert "Alex" not in alert.subject + alert.body

    answer(page, [1, 1, 1, 0, 0, 1, 0])
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you — we have your answers")).to_be_visible()
    expect(page.get_by_role("alert").get_by_role("link", name="Call 988")).to_be_visible()
    assert_accessible(page)

    kept = {m.instrument: (m.score, m.answers) for m in Measurement.objects.all()}
    assert kept == {"phq9": (9, [0, 1, 1, 2, 1, 1, 1, 0, 2]), "gad7": (4, [1, 1, 1, 0, 0, 1, 0])}
    assert len(mail.outbox) == 1

    # The visit page: the trend, as a chart with its table.
    page.get_by_role("link", name="Back to your appointment").click()
    chart = page.get_by_role("img", name="PHQ-9 and GAD-7 scores over time")
    expect(chart).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table).to_contain_text("9 of 27")
    expect(table).to_contain_text("Response")  # 19 → 9 and 14 → 4
    assert page.locator(".trend-point").count() == 4
    assert_accessible(page)
    assert fits_the_phone(page)
    assert page_watch.console_errors == []


def test_a_clinician_reads_the_trend_on_the_record_and_adds_a_score_taken_by_phone(page, page_watch, visit):
    clinician = staff_with_role("Clinician")
    sign_in(page, clinician, TOTPDevice.objects.create(user=clinician, name="Authenticator app", confirmed=True))
    Measurement.objects.create(
        patient=visit.patient,
        appointment=visit,
        instrument="phq9",
        score=11,
        answers=[2, 2, 1, 1, 1, 1, 1, 1, 1],
        taken_at=timezone.now() - datetime.timedelta(hours=2),
        source=Measurement.Source.CHECK_IN,
    )
    page.goto(f"/admin/booking/patient/{visit.patient_id}/record/#scores")
    scores = page.locator("#scores")
    expect(scores.get_by_role("img", name="PHQ-9 and GAD-7 scores over time")).to_be_visible()
    expect(scores.locator("tbody tr")).to_have_count(3)  # the screening's two, the check-in
    expect(scores).to_contain_text("Item 9 above 0")
    assert_accessible(page)

    form = scores.get_by_role("form", name="Add a score taken elsewhere")
    form.get_by_label("Total score").fill("30")
    form.get_by_role("button", name="Add the score").click()
    expect(page.get_by_role("alert")).to_contain_text("at most 27")
    assert_accessible(page)
    page.get_by_role("alert").get_by_role("link").click()
    expect(page.get_by_label("Total score")).to_be_focused()
    expect(page.get_by_label("Total score")).to_have_value("30")  # what was typed is still there
    page.get_by_label("Total score").fill("8")
    page.get_by_role("button", name="Add the score").click()
    expect(page.locator(".messagelist")).to_contain_text("Score added.")
    expect(page.locator("#scores tbody tr")).to_have_count(4)
    expect(page.locator("#scores tbody tr", has_text="Entered by a clinician")).to_contain_text("8 of 27")
    assert Measurement.objects.get(source="clinician").entered_by == clinician
    assert page_watch.console_errors == []
