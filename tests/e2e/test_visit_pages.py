"""The front desk moves a visit to 9 PM (asked to confirm, then moved) and cancels another with a
reason, in Chromium, without JavaScript of our own; axe on each page as staff see it, errors too."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.models import Appointment
from tests.booking.test_schedule import visit
from tests.e2e.test_schedule import sign_in
from tests.e2e.test_screening import assert_accessible
from tests.factories import ClinicianFactory, staff_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLINIC = ZoneInfo("America/New_York")


def tuesday(hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 8, hour, tzinfo=CLINIC)


def test_the_front_desk_moves_a_visit_outside_hours_and_cancels_another(page):
    with time_machine.travel(datetime.datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC), tick=True):
        chen = ClinicianFactory(name="Dr. Chen")
        moving, cancelling = visit(chen, tuesday(9), name="Alex Rivera"), visit(chen, tuesday(14), name="Sam Lee")
        desk = staff_with_role("Front desk")
        sign_in(page, desk, TOTPDevice.objects.create(user=desk, name="Authenticator app", confirmed=True))

        page.goto(f"/admin/schedule/visits/{moving.pk}/move/?next=/admin/schedule/%3Fdate%3D2026-12-08")
        expect(page.get_by_role("heading", name="Move a visit")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Time").fill("21:00")
        page.get_by_role("button", name="Move the visit").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("This time is outside working hours.")
        assert_accessible(page)
        summary.get_by_role("link").click()  # the error summary takes the keyboard to the checkbox
        expect(page.get_by_label("Yes, move it outside hours")).to_be_focused()
        expect(page.get_by_label("Time")).to_have_value("21:00")
        page.get_by_label("Yes, move it outside hours").check()
        page.get_by_role("button", name="Move the visit").click()
        page.wait_for_url(lambda url: "/admin/schedule/?date=2026-12-08" in url)  # the fragment stays
        expect(page.locator(".messagelist")).to_contain_text("moved; the patient is being e-mailed the new time.")
        assert Appointment.objects.get(pk=moving.pk).start == tuesday(21)

        page.goto(f"/admin/schedule/visits/{cancelling.pk}/cancel/")
        assert_accessible(page)
        page.get_by_role("button", name="Cancel this visit").click()
        expect(page.get_by_role("alert")).to_contain_text("Please give the reason for the cancellation.")
        assert_accessible(page)
        page.get_by_role("alert").get_by_role("link").click()
        expect(page.get_by_label("Reason for the cancellation")).to_be_focused()
        page.get_by_label("Reason for the cancellation").fill("Dr. Chen is ill")
        page.get_by_role("button", name="Cancel this visit").click()
        page.wait_for_url(lambda url: "/admin/schedule/?date=2026-12-08" in url)  # the fragment stays
        expect(page.locator(".messagelist")).to_contain_text("cancelled; the patient is being e-mailed.")
        assert Appointment.objects.get(pk=cancelling.pk).status == Appointment.Status.CANCELLED
