"""The patient's record page in a real browser: accessible as each role, a note refused and then added."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.booking.test_patient_record import CLIN, FRONT, full_record, patient, signed_in  # noqa: F401 (fixtures)
from tests.e2e.test_screening import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


@pytest.mark.parametrize("role", [CLIN, FRONT])
def test_the_record_and_its_note_form_are_accessible(full_record, page, live_server, role):  # noqa: F811
    client, _user = signed_in(role)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.goto(f"/admin/booking/patient/{full_record['patient'].pk}/record/")
    assert_accessible(page)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Note").fill("Called, left a message.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_text("Note added.")).to_be_visible()
    expect(page.get_by_text("Called, left a message.")).to_be_visible()
    assert_accessible(page)
    page.goto("/admin/booking/patient/?q=5550100123")
    assert_accessible(page)
