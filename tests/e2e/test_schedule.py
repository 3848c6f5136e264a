"""The front desk's day in Chromium: sign in, open tomorrow's schedule and see every visit with its
readiness in words; at the end of that day, mark one visit a no-show, one completed, and the rest
from the end-of-day box. A manager's export, a refused range first. Axe on each page."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.models import Appointment, TreatmentPlan
from reminders.models import ReminderStatus
from tests.booking.test_schedule import preparation_reminder, screening, visit
from tests.e2e.test_screening import assert_accessible
from tests.e2e.test_staff_sign_in import at, next_code, sign_in_with_password, type_code
from tests.factories import ClinicianFactory, staff_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLINIC = ZoneInfo("America/New_York")
MONDAY_MORNING = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC)
TUESDAY_EVENING = datetime.datetime(2026, 12, 8, 18, 0, tzinfo=CLINIC)


def tuesday(hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 8, hour, tzinfo=CLINIC)


def sign_in(page, user, device) -> None:
    sign_in_with_password(page, user.username)
    page.wait_for_url(at("/admin/second-factor/"))
    type_code(page, next_code(page, device), "Sign in")
    page.wait_for_url(at("/admin/"))


def visit_card(page, patient_name: str):
    return page.locator("article.visit-card").filter(has=page.get_by_role("link", name=patient_name, exact=True))


def test_the_front_desk_runs_tomorrows_day_from_the_schedule(page, page_watch):
    with time_machine.travel(MONDAY_MORNING, tick=True):
        chen = ClinicianFactory(name="Dr. Chen", offers=["consultation", "iv-infusion"])
        diaz = ClinicianFactory(name="Dr. Diaz")
        infusion = visit(
            chen,
            tuesday(9),
            slug="iv-infusion",
            name="Alex Rivera",
            screening=screening(urgent=True, reviewed_at=timezone.now()),
            ride_confirmed_at=timezone.now(),
        )
        TreatmentPlan.objects.create(
            patient=infusion.patient, appointment_type=infusion.appointment_type, sessions=6, approved_at=timezone.now()
        )
        preparation_reminder(infusion)
        consultation = visit(chen, tuesday(13), name="Sam Lee", screening=screening())
        follow_up = visit(diaz, tuesday(10), slug="follow-up", name="Robin Park")
        waiting = visit(diaz, tuesday(14), slug="iv-infusion", name="Jo Kim")
        preparation_reminder(waiting, status=ReminderStatus.PENDING)
        desk = staff_with_role("Front desk")
        device = TOTPDevice.objects.create(user=desk, name="Authenticator app", confirmed=True)

        sign_in(page, desk, device)
        page.get_by_role("link", name="Today's schedule").click()
        page.wait_for_url(at("/admin/schedule/"))
        page.get_by_role("navigation", name="Schedule days").get_by_role("link", name="Tomorrow").click()
        page.wait_for_url(lambda url: url.endswith("?date=2026-12-08"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Schedule: Tuesday, December 8, 2026")
        for clinician in ("Dr. Chen", "Dr. Diaz"):
            expect(page.get_by_role("heading", level=2, name=clinician)).to_be_visible()
        assert page.locator("article.visit-card").count() == 4

        alex = visit_card(page, "Alex Rivera")
        expect(alex).to_contain_text("9:00 AM EST")
        expect(alex).to_contain_text("IV ketamine infusion")
        expect(alex).to_contain_text("Status: Confirmed")
        badges = alex.get_by_role("list", name="Readiness").get_by_role("listitem")
        expect(badges).to_have_text(
            [
                "Screening urgent",
                "Screening reviewed",
                "Plan approved",
                "Preparation reminder sent",
                "Ride home confirmed",
                "Not checked in",
            ]
        )
        jo = visit_card(page, "Jo Kim").get_by_role("list", name="Readiness")
        for missing in ("No approved plan", "Preparation reminder not sent yet", "Ride home not confirmed"):
            expect(jo).to_contain_text(missing)
        expect(visit_card(page, "Sam Lee")).to_contain_text("Screening not reviewed")
        expect(visit_card(page, "Robin Park")).to_contain_text("10:00 AM EST")
        # The patient's name opens the patient's record.
        assert visit_card(page, "Sam Lee").get_by_role("link", name="Sam Lee", exact=True).get_attribute("href") == (
            f"/admin/booking/patient/{consultation.patient_id}/change/"
        )
        assert_accessible(page)

        # On paper: the visits, without the links around the site or the buttons.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Schedule days")).to_be_hidden()
        expect(visit_card(page, "Alex Rivera").get_by_role("button", name=re.compile("^Check in"))).to_be_hidden()
        expect(visit_card(page, "Jo Kim")).to_be_visible()
        page.emulate_media(media="screen")

        # Keyboard: the skip links lead to each clinician's column.
        page.get_by_role("navigation", name="Clinicians on this day").get_by_role("link", name="Dr. Diaz").focus()
        page.keyboard.press("Enter")
        assert page.url.endswith(f"#clinician-{diaz.pk}")

        # One clinician's week, through the labelled filter.
        page.get_by_label("Clinician", exact=True).select_option(label="Dr. Diaz")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(lambda url: f"clinician={diaz.pk}" in url)
        expect(page.locator("article.visit-card")).to_have_count(2)
        page.get_by_role("navigation", name="Schedule days").get_by_role("link", name="Week").click()
        page.wait_for_url(lambda url: "/admin/schedule/week/" in url)
        expect(page.get_by_role("table")).to_contain_text("Robin Park")
        expect(page.get_by_role("table")).not_to_contain_text("Alex Rivera")
        assert_accessible(page)

    # Tuesday evening: the visits are over (a new session: the morning's one has timed out).
    with time_machine.travel(TUESDAY_EVENING, tick=True):
        sign_in(page, desk, device)
        page.goto("/admin/schedule/?date=2026-12-08")
        visit_card(page, "Sam Lee").get_by_role("button", name=re.compile("^No-show")).click()
        expect(visit_card(page, "Sam Lee")).to_contain_text("Status: No show")
        visit_card(page, "Alex Rivera").get_by_role("button", name=re.compile("^Completed")).click()
        expect(visit_card(page, "Alex Rivera")).to_contain_text("Status: Completed")
        expect(page.locator(".messagelist")).to_be_visible()
        assert_accessible(page)

        # The rest at once, from the end-of-day box.
        visit_card(page, "Robin Park").get_by_label(re.compile("^Select")).check()
        page.get_by_label("Mark the selected visits").select_option(label="Completed")
        page.get_by_role("button", name="Apply to the selected visits").click()
        expect(visit_card(page, "Robin Park")).to_contain_text("Status: Completed")

    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses[consultation.pk] == Appointment.Status.NO_SHOW
    assert statuses[infusion.pk] == Appointment.Status.COMPLETED
    assert statuses[follow_up.pk] == Appointment.Status.COMPLETED
    assert statuses[waiting.pk] == Appointment.Status.CONFIRMED
    assert page_watch.console_errors == []


def test_a_manager_exports_a_month_after_a_backwards_range_is_refused(page, page_watch):
    with time_machine.travel(MONDAY_MORNING, tick=True):
        visit(ClinicianFactory(name="Dr. Chen"), tuesday(9), name="Alex Rivera")
        manager = staff_with_role("Manager")
        sign_in(page, manager, TOTPDevice.objects.create(user=manager, name="Authenticator app", confirmed=True))
        page.get_by_role("link", name="Export visits (CSV)").click()
        page.wait_for_url(at("/admin/schedule/export/"))
        assert_accessible(page)
        page.get_by_label("From").fill("2026-12-31")
        page.get_by_label("To (included)").fill("2026-12-01")
        page.get_by_role("button", name="Download the CSV").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("The last day comes before the first: please swap them.")
        expect(page.get_by_label("To (included)")).to_have_attribute("aria-invalid", "true")
        assert_accessible(page)
        summary.get_by_role("link").click()
        expect(page.get_by_label("To (included)")).to_be_focused()

        page.get_by_label("From").fill("2026-12-01")
        page.get_by_label("To (included)").fill("2026-12-31")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the CSV").click()
        assert download.value.suggested_filename == "visits-2026-12-01-to-2026-12-31.csv"
        with open(download.value.path(), encoding="utf-8") as exported:
            assert "Alex Rivera" in exported.read()
    assert page_watch.console_errors == []
