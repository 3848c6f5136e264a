"""Every education page in Chromium: accessible, self-contained, light, readable on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from education.content_loader import load_content
from education.models import FAQ, Article, Condition

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def education_paths():
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
    return (
        ["/learn/", "/conditions/", "/faq/", "/learn/?q=dissociation"]
        + [article.get_absolute_url() for article in Article.objects.published()]
        + [condition.get_absolute_url() for condition in Condition.objects.published()]
    )


def test_every_education_page_passes_axe_in_few_same_origin_requests(page, page_watch, live_server, education_paths):
    requests = []
    page.on("request", lambda request: requests.append(request))
    for path in education_paths:
        requests.clear()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("heading", level=1).count() == 1, path
        results = Axe().run(page)
        assert results.violations_count == 0, f"{path}\n{results.generate_report()}"
        assert len(requests) <= 4, [request.url for request in requests]
        assert all(request.url.startswith(live_server.url) for request in requests)
    assert page_watch.console_errors == []  # JSON-LD and everything else pass the CSP


def test_an_article_reads_comfortably_on_a_phone(phone_page):
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
    phone_page.goto("/learn/what-a-session-is-like/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    font_size = phone_page.evaluate("parseFloat(getComputedStyle(document.querySelector('.prose p')).fontSize)")
    assert font_size >= 16
    assert phone_page.get_by_text("Reviewed on").is_visible()
    assert Axe().run(phone_page).violations_count == 0


def test_search_from_the_learn_page_by_keyboard(page):
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
    page.goto("/learn/")
    page.get_by_label("Search our articles").fill("nasal spray")
    page.keyboard.press("Enter")
    page.wait_for_url("**/learn/?q=nasal+spray")
    assert page.get_by_role("status").inner_text().endswith("for “nasal spray”.")
    assert page.get_by_label("Search our articles").input_value() == "nasal spray"
    assert page.locator("main ul a").count() >= 1
