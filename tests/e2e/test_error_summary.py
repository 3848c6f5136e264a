"""The error summary in Chromium: focus lands on it after a failed submit, with or without
JavaScript, and each of its links takes the patient to the question (an input or a group)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_screening import assert_accessible, fill_step
from tests.screening import personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


def submit(page) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()


def test_an_empty_step_focuses_the_summary_whose_links_reach_each_field(page, page_watch):
    page.set_viewport_size({"width": 1280, "height": 600})  # short enough that the form scrolls
    page.goto("/screening/step/about/")
    submit(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Please correct 5 answers below.")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Full name: This field is required.",
            "E-mail: This field is required.",
            "Phone: This field is required.",
            "Date of birth: This field is required.",
            "State where you live: This field is required.",
        ]
    )
    assert_accessible(page)

    summary.get_by_role("link", name="Phone").click()
    phone = page.get_by_label("Phone")
    expect(phone).to_be_focused()
    expect(phone).to_be_in_viewport()
    expect(page.locator("label[for=id_phone]")).to_be_in_viewport(ratio=1)  # the question, not just its box

    # By keyboard: the summary is where the next Tab starts from.
    page.goto("/screening/step/about/")
    page.get_by_label("Full name").fill("Sam Lee")
    submit(page)
    expect(summary).to_be_focused()
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="E-mail")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("E-mail")).to_be_focused()
    assert page.get_by_label("Full name").input_value() == "Sam Lee"
    assert page_watch.console_errors == []


def test_a_questionnaire_link_focuses_the_group_on_a_phone(phone_page, page_watch):
    page = phone_page
    page.goto("/screening/step/about/")
    for slug, data in personas.ELIGIBLE[:2]:  # about, concerns
        page.wait_for_url(f"**/screening/step/{slug}/")
        fill_step(page, data)
        submit(page)
    page.wait_for_url("**/screening/step/phq9/")
    page.get_by_label("Several days").first.check()  # question 1 only
    submit(page)

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    links = summary.get_by_role("link")
    expect(links).to_have_count(8)  # questions 2 to 9; question 10 may be left out
    assert_accessible(page)

    links.last.click()
    group = page.locator("#id_item_9")
    expect(group).to_be_focused()
    expect(group.locator("legend")).to_be_in_viewport()
    expect(page.get_by_role("group", name="9. Thoughts that you would be better off dead")).to_have_id("id_item_9")
    page.keyboard.press("Tab")  # on to the group's first answer
    expect(page.locator("#id_item_9_0")).to_be_focused()
    expect(page.locator("#id_item_1_1")).to_be_checked()  # the answer given is kept
    assert_accessible(page)
    assert page_watch.console_errors == []


def test_focus_moves_to_the_summary_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/screening/step/about/")
    page.get_by_label("E-mail").fill("not an email")
    submit(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="E-mail").click()
    expect(page.get_by_label("E-mail")).to_be_focused()
    assert page.get_by_label("E-mail").input_value() == "not an email"
    context.close()
