"""The home page and a reading page in Chromium, on a phone (390 × 844) and a desk (1280 × 900):
every section visible, nothing wider than the screen, axe zero violations, contents links that
land on their headings, and lines of a comfortable length."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from education.content_loader import load_content
from education.models import FAQ, Article, Condition
from tests.e2e.conftest import _page
from tests.factories import ClinicianFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


@pytest.fixture(params=list(VIEWPORTS))
def any_page(request, browser, live_server, page_watch):
    context, page = _page(browser, live_server, page_watch, **VIEWPORTS[request.param])
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"
    assert page_watch.console_errors == []


def assert_accessible(page):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_the_home_page_shows_each_section_and_passes_axe(any_page):
    ClinicianFactory(name="Dr. Maya Chen", credentials="MD, psychiatrist", bio="Leads our consultations.",
                     shown_on_site=True, site_order=0)  # fmt: skip
    ClinicianFactory(name="Jordan Reyes", credentials="PMHNP-BC", bio="Holds follow-ups.", shown_on_site=True)
    ClinicianFactory(name="Not Listed", shown_on_site=False)
    page = any_page
    page.goto("/")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_role("heading", level=1).count() == 1
    # Both ways to start are on the first screen, on a phone too.
    for name in ("Start the screening", "Book a consultation"):
        link = page.locator(".home-hero").get_by_role("link", name=name)
        assert link.is_visible()
        assert link.bounding_box()["y"] + link.bounding_box()["height"] <= page.viewport_size["height"]
    for heading in (
        "What a visit is like",
        "What research shows, honestly",
        "Your care team",
        "How to get started",
        "If you are in crisis now",
    ):
        assert page.get_by_role("heading", level=2, name=heading).is_visible(), heading
    team = page.locator(".care-team-member")
    assert team.count() == 2
    assert team.first.get_by_role("heading", name="Dr. Maya Chen").is_visible()
    assert "MC" in team.first.locator("svg text").text_content()
    assert page.get_by_text("Not Listed").count() == 0
    assert page.locator(".outcome cite").first.is_visible()
    crisis = page.locator(".home-crisis")
    assert crisis.get_by_role("link", name="Call 988").is_visible()
    assert crisis.get_by_role("link", name="Text 988").is_visible()
    assert crisis.get_by_role("link", name="Call 911").is_visible()
    assert_accessible(page)


def test_an_articles_contents_lead_to_its_headings_and_its_lines_read_comfortably(any_page):
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
    page = any_page
    page.goto("/learn/what-a-session-is-like/")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    contents = page.get_by_role("navigation", name="Contents")
    assert contents.is_visible()
    links = contents.get_by_role("link")
    assert links.count() >= 3
    third = links.nth(2)
    target = third.get_attribute("href")
    third.click()
    page.wait_for_url(f"**{target}")
    heading = page.locator(f"[id='{target[1:]}']")
    assert heading.evaluate("element => element.tagName") in ("H2", "H3")
    assert heading.inner_text() == third.inner_text()
    box = heading.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"] / 2  # scrolled to the top, not hidden under anything
    # Characters per line of running text: the paragraph's width over its font's average letter.
    per_line = page.evaluate(
        """() => {
          const paragraphs = [...document.querySelectorAll('.prose p')];
          const p = paragraphs.sort((a, b) => b.textContent.length - a.textContent.length)[0];
          const style = getComputedStyle(p);
          const context = document.createElement('canvas').getContext('2d');
          context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const text = p.textContent.replace(/\\s+/g, ' ');
          return p.clientWidth / (context.measureText(text).width / text.length);
        }"""
    )
    if width >= 1000:
        assert 65 <= per_line <= 75, per_line
    else:
        assert per_line <= 60, per_line  # a phone's width sets the line
    assert page.get_by_text("Reviewed on").is_visible()
    assert page.get_by_role("heading", name="References").count() == 1
    assert_accessible(page)
