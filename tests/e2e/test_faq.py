"""The FAQ page in Chromium: accessible folded or open, answers opened by a click, by the
keyboard, by a contents link, a search result or a shared address, without any script."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from education.content_loader import load_content
from education.models import FAQ, Article, Condition
from tests.e2e.conftest import _page
from tests.factories import FAQFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANSWER = "Wear loose clothes; some patients bring a quornwattle blanket for the recovery chair."


@pytest.fixture
def faq():
    """The shipped questions, and one more near the top whose answer holds a unique word."""
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
    return FAQFactory(question="What should I wear to a session?", answer=ANSWER, order=15)


def question(page, faq):
    return page.locator("main details").filter(has=page.locator(f"#faq-{faq.pk}")).locator("summary")


def assert_question_shown_above_its_answer(page, faq):
    """Landing on an answer shows it opened, with its whole question on screen, not scrolled off above."""
    expect(page.get_by_text(ANSWER)).to_be_visible()
    expect(question(page, faq)).to_be_in_viewport(ratio=1)
    assert page.locator("main details[open]").count() == 1


def test_the_faq_page_passes_axe_with_answers_folded_and_open(page, page_watch, faq):
    page.goto("/faq/")
    assert page.locator("main details[open]").count() == 0
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    for summary in page.locator("main details summary").all():
        summary.click()
    assert page.locator("main details:not([open])").count() == 0
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page_watch.console_errors == []


def test_every_question_is_a_heading_and_listed_in_the_contents(page, faq):
    page.goto("/faq/")
    contents = page.get_by_role("navigation", name="Questions on this page")
    questions = page.locator("main details summary").all_inner_texts()
    assert len(questions) == FAQ.objects.published().count() >= 9
    assert contents.get_by_role("link").all_inner_texts() == questions
    assert page.get_by_role("heading", level=2, name="What should I wear to a session?").count() == 1


def test_a_click_on_a_question_shows_its_answer_and_a_second_hides_it(page, faq):
    page.goto("/faq/")
    answer = page.get_by_text(ANSWER)
    expect(answer).to_be_hidden()
    question(page, faq).click()
    expect(answer).to_be_visible()
    question(page, faq).click()
    expect(answer).to_be_hidden()


def test_enter_or_space_on_a_question_opens_its_answer(page, faq):
    page.goto("/faq/")
    answer = page.get_by_text(ANSWER)
    question(page, faq).focus()
    page.keyboard.press("Enter")
    expect(answer).to_be_visible()
    page.keyboard.press("Enter")
    expect(answer).to_be_hidden()
    page.keyboard.press(" ")
    expect(answer).to_be_visible()


def test_a_contents_link_opens_the_answer_with_its_question_in_view(page, faq):
    page.emulate_media(reduced_motion="reduce")  # the jump is instant, so "in view" means where it lands
    page.goto("/faq/")
    answer = page.get_by_text(ANSWER)
    expect(answer).to_be_hidden()
    page.get_by_role("navigation", name="Questions on this page").get_by_role(
        "link", name="What should I wear to a session?"
    ).click()
    expect(page).to_have_url(re.compile(f"/faq/#faq-{faq.pk}$"))
    assert_question_shown_above_its_answer(page, faq)


def test_a_search_result_opens_the_answer_it_found(page, faq):
    page.emulate_media(reduced_motion="reduce")
    page.goto("/learn/")
    page.get_by_label("Search our articles").fill("quornwattle")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("1 result for “quornwattle”.")
    page.get_by_role("link", name="What should I wear to a session?").click()
    expect(page).to_have_url(re.compile(f"/faq/#faq-{faq.pk}$"))
    assert_question_shown_above_its_answer(page, faq)


def test_a_shared_link_opens_its_answer_without_javascript(browser, live_server, page_watch, faq):
    context, page = _page(
        browser,
        live_server,
        page_watch,
        java_script_enabled=False,
        reduced_motion="reduce",
        viewport={"width": 360, "height": 740},
    )
    try:
        page.goto(f"/faq/#faq-{faq.pk}")
        assert_question_shown_above_its_answer(page, faq)
    finally:
        context.close()
    assert page_watch.foreign_requests == []
