"""The REMS pages in a real browser, accessible (axe): a clinician records a patient's enrollment
on the record (refused first, in words); a manager opens the forms due, prints one and marks it
submitted."""

from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from booking.models import Patient
from tests.e2e.test_screening import assert_accessible
from tests.factories import staff_sign_in, staff_with_role
from tests.treatment.test_rems import CLINIC, charted_session
from treatment.models import SessionRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

NOW = datetime(2026, 12, 10, 14, 0, tzinfo=CLINIC)


@pytest.fixture
def clock():
    # tick: the browser's session keeps working while the clock stands near NOW.
    with time_machine.travel(NOW, tick=True):
        yield


def as_staff(page, live_server, role: str, **fields):
    client = Client()
    user = staff_with_role(role, **fields)
    staff_sign_in(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return user


def test_a_clinician_records_the_enrollment_on_the_record(page, live_server, clock):
    patient = Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100123")
    as_staff(page, live_server, "Clinician", first_name="Ana", last_name="Diaz")
    page.goto(f"/admin/booking/patient/{patient.pk}/record/")
    expect(page.get_by_text("Not recorded")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Enrollment date").fill("2019-03-04")
    page.get_by_role("button", name="Record the enrollment").click()
    expect(page.locator(".errornote")).to_contain_text("SPRAVATO was approved on March 5, 2019")
    assert_accessible(page)
    page.get_by_label("Enrollment date").fill("2026-12-09")
    page.get_by_role("button", name="Record the enrollment").click()
    expect(page.get_by_text("REMS enrollment recorded.")).to_be_visible()
    expect(page.locator("#rems")).to_contain_text("Dec. 9, 2026")
    expect(page.locator("#rems")).to_contain_text("by Ana Diaz")
    assert_accessible(page)


def test_a_manager_prints_a_form_and_marks_it_submitted(page, live_server, clock):
    record = charted_session()
    overdue = charted_session(n=2, day=1)
    as_staff(page, live_server, "Manager")
    page.goto("/admin/")
    page.get_by_role("link", name="REMS monitoring forms due").click()
    expect(page.locator("tr.rems-overdue")).to_contain_text("Overdue by 2 days")
    assert_accessible(page)
    page.get_by_role("link", name=f"Print the form of chart #{record.pk}").click()
    expect(page.get_by_role("heading", name="SPRAVATO REMS — Patient Monitoring Form (outpatient)")).to_be_visible()
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.locator("#header")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark submitted")).to_be_hidden()
    expect(page.get_by_text("146/92 mmHg")).to_be_visible()
    page.emulate_media(media="screen")
    page.get_by_role("button", name="Mark submitted").click()
    expect(page.get_by_text("its REMS monitoring form is marked submitted")).to_be_visible()
    assert SessionRecord.objects.get(pk=record.pk).rems_submitted_at is not None
    assert SessionRecord.objects.get(pk=overdue.pk).rems_submitted_at is None
    page.goto("/admin/rems-forms/?status=submitted")
    expect(page.locator(".rems-list")).to_contain_text(f"Chart #{record.pk}")
    assert_accessible(page)
