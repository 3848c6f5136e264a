"""The screening in Chromium for four people; axe on every step, errors included."""

import pytest
from axe_playwright_python.sync_playwright import Axe

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
    assert summary.is_visible()
    assert "Please correct" in summary.inner_text()
    assert page.get_by_label("Full name").input_value() == "Sam Lee"
    assert page.get_by_label("E-mail").input_value() == "not an email"
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    assert page.url.endswith("#div_id_email") or "#div_id_" in page.url


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
