"""A clinician's review in Chromium: sign in with the second factor, open the review queue, take
the urgent screening first, approve a 6-session IV infusion plan, and find the plan. Axe on
every page, the form's error included."""

import datetime
import re

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.models import TreatmentPlan
from screening.models import ReviewDecision, Screening
from tests.e2e.test_screening import assert_accessible
from tests.e2e.test_staff_sign_in import at, expect_admin_index, next_code, sign_in_with_password, type_code
from tests.factories import staff_with_role
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def submitted_hours_ago(steps, hours: int) -> Screening:
    screening = submitted_screening(steps)
    Screening.objects.filter(pk=screening.pk).update(submitted_at=timezone.now() - datetime.timedelta(hours=hours))
    return screening


def test_a_clinician_reviews_the_urgent_screening_first_and_approves_an_iv_plan(page, page_watch):
    older = submitted_hours_ago(personas.ELIGIBLE, 7)
    urgent = submitted_hours_ago(personas.URGENT, 5)
    clinician = staff_with_role("Clinician")
    device = TOTPDevice.objects.create(user=clinician, name="Authenticator app", confirmed=True)

    sign_in_with_password(page, clinician.username)
    page.wait_for_url(at("/admin/second-factor/"))
    type_code(page, next_code(page, device), "Sign in")
    expect_admin_index(page)
    assert_accessible(page)

    page.get_by_role("link", name="Screenings to review").click()
    page.wait_for_url(at("/admin/screening/screening/review/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Screenings to review")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.get_by_role("rowheader")).to_have_text(f"Screening #{urgent.pk}")  # urgent before older
    expect(rows.first).to_contain_text("5\xa0hours ago")
    expect(rows.first).to_contain_text("Urgent — overdue")
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text(f"Screening #{older.pk}")
    assert_accessible(page)

    rows.first.get_by_role("link", name=f"Review Screening #{urgent.pk}").click()
    page.wait_for_url(at(f"/admin/screening/screening/{urgent.pk}/review/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review Screening #{urgent.pk}")
    expect(page.locator("main, #content").first).to_contain_text("Thoughts that you would be better off dead")
    assert_accessible(page)

    decision = page.get_by_role("group", name="Decision")
    decision.get_by_role("radio", name="Approved a treatment plan").check()
    page.get_by_label("Treatment:", exact=True).select_option(label="IV ketamine infusion")
    page.get_by_label("Sessions:", exact=True).fill("6")
    page.get_by_label("Minimum hours between sessions:").fill("48")
    page.get_by_role("button", name="Record the review").click()

    # The note was left out: said at the top, linked to the field, everything typed still there.
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Note: Please write a note")
    expect(page).to_have_title(re.compile(r"^Error: Review Screening #"))
    expect(page.get_by_label("Sessions:", exact=True)).to_have_value("6")
    expect(decision.get_by_role("radio", name="Approved a treatment plan")).to_be_checked()
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("^Note:")).click()
    note = page.get_by_role("textbox", name="Note:", exact=True)
    expect(note).to_be_focused()
    note.fill("Spoke with the patient; safe, supported at home. Start the infusion course.")
    page.get_by_role("button", name="Record the review").click()

    page.wait_for_url(at("/admin/screening/screening/review/"))
    expect(page.locator(".messagelist")).to_contain_text(
        f"Screening #{urgent.pk} reviewed: treatment plan approved, 6 session(s) of IV ketamine infusion"
    )
    expect(rows).to_have_count(1)  # only the older, non-urgent one waits now
    assert_accessible(page)

    page.goto("/admin/booking/treatmentplan/")
    plan_row = page.locator("#result_list tbody tr").first
    expect(plan_row.locator(".field-appointment_type")).to_have_text("IV ketamine infusion")
    expect(plan_row.locator(".field-sessions_left")).to_have_text("6")
    expect(plan_row.locator(".field-spacing")).to_have_text("at least 48 h")
    assert_accessible(page)

    plan = TreatmentPlan.objects.get()
    assert (plan.sessions, plan.min_hours_between, plan.approved_by, plan.screening_id) == (6, 48, clinician, urgent.pk)
    urgent.refresh_from_db()
    assert urgent.review_decision == ReviewDecision.PLAN and urgent.reviewed_by == clinician
    assert page_watch.console_errors == []
