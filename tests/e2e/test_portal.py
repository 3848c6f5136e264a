"""The patient portal in Chromium: a sign-in link asked for a booked patient's address and for an
unknown one (the same page), opened from the e-mail, both visits seen and one cancelled; the link
refused the second time and after 30 minutes. Axe on every page."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from booking.models import Appointment
from tests.booking.test_booking import book
from tests.e2e.test_screening import assert_accessible
from tests.factories import ClinicianFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

CLINIC = ZoneInfo("America/New_York")
MONDAY = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC)
SENT = "If this address has visits with us, we have sent a sign-in link; it works once, for 30 minutes."
LINK = re.compile(r"https?://[^/\s]+(/my/[A-Za-z0-9_-]{16,64}/)")


def ask_for_link(page, email: str) -> str:
    page.goto("/my/")
    assert_accessible(page)
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.locator("#link-sent")).to_contain_text(SENT)
    assert_accessible(page)
    return page.locator("main").inner_text()


def emailed_link() -> str:
    return LINK.search(mail.outbox[-1].body).group(1)


def test_a_patient_signs_in_sees_both_visits_and_cancels_one(page):
    with time_machine.travel(MONDAY, tick=True):
        clinician = ClinicianFactory(name="Dr. Chen")
        first = book(clinician, datetime.datetime(2026, 12, 9, 10, tzinfo=CLINIC), key="a")
        second = book(clinician, datetime.datetime(2026, 12, 10, 14, tzinfo=CLINIC), key="b")
        # Each confirmation leads to its visit and to the portal.
        assert all("All your appointments: http" in message.body for message in mail.outbox)
        mail.outbox.clear()

        known = ask_for_link(page, "patient1@example.org")
        unknown = ask_for_link(page, "nobody@example.org")
        assert known == unknown  # nothing tells whether an address is ours
        assert [message.to for message in mail.outbox] == [["patient1@example.org"]]
        link = emailed_link()

        page.goto(link)
        expect(page.get_by_role("heading", name="Sign in to your appointments")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: url.endswith("/my/"))  # the token is out of the address bar
        visits = page.locator("[data-visit]")
        expect(visits).to_have_count(2)
        expect(page.locator(f'[data-visit="{first.pk}"]')).to_contain_text("Wednesday, December 9, 2026")
        expect(page.locator(f'[data-visit="{second.pk}"]')).to_contain_text("Thursday, December 10, 2026")
        assert_accessible(page)

        page.locator(f'[data-visit="{first.pk}"]').get_by_role("link", name="Cancel the visit on December 9").click()
        expect(page.get_by_role("heading", name="Cancel your appointment")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Cancel appointment").click()
        page.wait_for_url(lambda url: "/my/" in url)
        expect(page.get_by_role("status")).to_contain_text("Your appointment is cancelled.")
        assert_accessible(page)
        assert Appointment.objects.get(pk=first.pk).status == Appointment.Status.CANCELLED
        upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming visits"))
        expect(upcoming.locator("[data-visit]")).to_have_count(1)

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status")).to_contain_text("You are signed out.")
        assert_accessible(page)

        page.goto(link)  # the second time
        expect(page.get_by_role("heading", name="This link has been used already")).to_be_visible()
        assert_accessible(page)

        ask_for_link(page, "patient1@example.org")
        fresh = emailed_link()
        assert fresh != link
    with time_machine.travel(MONDAY + datetime.timedelta(minutes=31), tick=True):
        page.goto(fresh)
        expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
        assert_accessible(page)
        expect(page.get_by_role("button", name="E-mail me a sign-in link")).to_be_visible()
