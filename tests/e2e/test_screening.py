"""The screening in Chromium for four people; axe on every step, errors included."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from screening.models import Screening
from tests.screening import personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def assert_accessible(page):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def fill_step(page, data: dict) -> None:
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        inputs = page.locator(f'[name="{name}"]')
        kind = inputs.first.get_attribute("type")
        if kind == "checkbox" and inputs.count() == 1:  # a single yes/no box
            inputs.check()
        elif kind in ("radio", "checkbox"):
            for one in values:
                page.locator(f'[name="{name}"][value="{one}"]').check()
        elif inputs.first.evaluate("element => element.tagName") == "SELECT":
            inputs.select_option(values[0])
        else:
            inputs.fill(values[0])


def walk(page, steps) -> str:
    page.goto("/screening/")
    assert_accessible(page)
    page.get_by_role("link", name="Start the screening").click()
    for slug, data in steps:
        page.wait_for_url(f"**/screening/step/{slug}/")
        assert_accessible(page)
        fill_step(page, data)
        page.get_by_role("button", name="Save and continue").click()
        if slug == "phq9" and int(data["item_9"]) > 0:  # help first, then the screening goes on
            page.wait_for_url("**/screening/support/")
            assert_accessible(page)
            page.get_by_role("link", name="Carry on with the screening").click()
    page.wait_for_url("**/screening/review/")
    assert_accessible(page)
    page.get_by_role("button", name="Submit my screening").click()
    page.wait_for_url("**/screening/result/**")
    assert_accessible(page)
    return page.url.rstrip("/").split("/")[-1]


@pytest.mark.parametrize(
    ("steps", "outcome"),
    [
        (personas.ELIGIBLE, "eligible"),
        (personas.REVIEW, "review"),
        (personas.NOT_SUITABLE, "not_suitable"),
        (personas.URGENT, "urgent"),
    ],
    ids=["eligible", "review", "not_suitable", "urgent"],
)
def test_each_kind_of_person_completes_the_screening(page, page_watch, steps, outcome):
    token = walk(page, steps)
    assert Screening.objects.get(token=token).outcome == outcome
    main = page.locator("main")
    if outcome == "urgent":
        assert main.get_by_role("alert").get_by_role("link", name="Call 988").is_visible()
    if outcome == "not_suitable":
        assert main.get_by_role("link", name="Book a consultation").count() == 0
    else:
        assert main.get_by_role("link", name="Book a consultation").is_visible()
    assert page_watch.console_errors == []


def test_errors_are_summarised_accessibly_and_typed_answers_kept(page):
    page.goto("/screening/step/about/")
    page.get_by_label("Full name").fill("Sam Lee")
    page.get_by_label("E-mail").fill("not an email")
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()  # waits for the answer to the POST, which keeps the URL
    assert "Please correct" in summary.inner_text()
    assert page.get_by_label("Full name").input_value() == "Sam Lee"
    assert page.get_by_label("E-mail").input_value() == "not an email"
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    assert page.url.endswith("#id_email")


def test_back_keeps_answers_without_javascript(browser, live_server, page_watch):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/screening/step/about/")
    fill_step(page, personas.about())
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/screening/step/concerns/")
    page.get_by_label("Anxiety").check()
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/screening/step/about/")
    assert page.get_by_label("Full name").input_value() == "Alex Rivera"
    page.get_by_role("button", name="Save and continue").click()
    assert page.get_by_label("Anxiety").is_checked()
    context.close()


def start_and_answer(page, steps) -> None:
    page.goto("/screening/step/about/")
    for slug, data in steps:
        page.wait_for_url(f"**/screening/step/{slug}/")
        fill_step(page, data)
        page.get_by_role("button", name="Save and continue").click()


def test_a_safety_answer_shows_help_on_the_next_page_and_alerts_staff_once(page, page_watch, settings):
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    steps = personas.persona(item9=2)
    start_and_answer(page, steps[:3])  # about, concerns, PHQ-9 with item 9 = 2
    page.wait_for_url("**/screening/support/")
    alert = page.get_by_role("alert")
    assert alert.get_by_role("link", name="Call 988").get_attribute("href") == "tel:988"
    assert alert.get_by_role("link", name="Text 988").get_attribute("href") == "sms:988"
    assert alert.get_by_role("link", name="911").get_attribute("href") == "tel:911"
    assert_accessible(page)
    # The person stops here: the staff alert went all the same.
    [email] = mail.outbox
    assert email.to == ["oncall@clinic.example.org"] and "has not finished" in email.body
    # Later, they finish: no second alert, and the result still leads with crisis help.
    page.get_by_role("link", name="Carry on with the screening").click()
    for slug, data in steps[3:]:
        page.wait_for_url(f"**/screening/step/{slug}/")
        fill_step(page, data)
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Submit my screening").click()
    page.wait_for_url("**/screening/result/**")
    assert page.locator("main").get_by_role("alert").get_by_role("link", name="Call 988").is_visible()
    assert len(mail.outbox) == 1
    assert Screening.objects.get().outcome == "urgent"
    assert page_watch.console_errors == []


def test_an_under_18_stops_at_step_1(page, page_watch):
    start_and_answer(page, [("about", personas.about(age=16))])
    expect(page.get_by_role("heading", level=1)).to_have_text("Our clinic treats adults")
    main = page.locator("main")
    assert main.get_by_role("link", name="Call 988").is_visible()
    assert main.locator("input, select, textarea, button").count() == 0  # nothing more is asked
    assert_accessible(page)
    assert Screening.objects.count() == 0


def test_a_review_result_lists_its_reasons(page):
    steps = personas.persona(conditions=("uncontrolled_hypertension", "psychosis"))
    start_and_answer(page, steps)
    page.get_by_role("button", name="Submit my screening").click()
    page.wait_for_url("**/screening/result/**")
    reasons = page.get_by_role("list", name="The answers a clinician will look at with you:")
    assert reasons.get_by_role("listitem").all_inner_texts() == [
        "High blood pressure that is not under control",
        "Psychosis or schizophrenia",
    ]
    assert_accessible(page)


def test_a_paused_start_is_a_calm_page_with_the_crisis_line(page, settings):
    """Over the limit of new screenings: status 429, the clinic's phone and 988, nothing broken."""
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "screening-start": "0/m"}
    start_and_answer(page, [("about", personas.about())])
    expect(page.get_by_role("heading", level=1)).to_have_text("Please wait a little before trying again")
    main = page.locator("main")
    assert main.get_by_role("link", name="Call 988").is_visible()
    assert main.get_by_role("link", name="Text 988").is_visible()
    assert_accessible(page)
    assert Screening.objects.count() == 0
