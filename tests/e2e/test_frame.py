"""The site's frame in a real browser: accessible, self-contained, usable by keyboard and on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FRAME_PAGES = ["/", "/crisis/", "/learn/", "/screening/", "/book/", "/no-such-page/"]


def assert_no_axe_violations(page):
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_home_page_loads_only_from_our_server_and_passes_axe(page, page_watch, live_server):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/")
    page.wait_for_load_state("networkidle")

    assert page.title().startswith("Ketamine therapy, carefully assessed")
    assert page.get_by_role("link", name="Start the screening").is_visible()
    assert page.get_by_role("link", name="Book a consultation").is_visible()
    # Bootstrap and our stylesheet really applied (served by us, not a CDN).
    assert page.evaluate("getComputedStyle(document.body).display") == "flex"
    assert page.evaluate("getComputedStyle(document.querySelector('.crisis-bar')).backgroundColor") == "rgb(58, 34, 54)"
    assert all(response.url.startswith(live_server.url) for response in responses)
    assert all(response.status == 200 for response in responses)
    assert page_watch.console_errors == []  # includes Content-Security-Policy violations
    assert_no_axe_violations(page)


@pytest.mark.parametrize("path", FRAME_PAGES)
def test_frame_pages_pass_axe_and_show_crisis_help(page, page_watch, path):
    page.goto(path)
    banner = page.get_by_role("banner")
    assert banner.get_by_role("link", name="988").first.is_visible()
    assert banner.get_by_role("link", name="911").is_visible()
    assert page.get_by_role("contentinfo").get_by_role("link", name="All crisis resources").is_visible()
    assert_no_axe_violations(page)
    assert [error for error in page_watch.console_errors if "404" not in error] == []


def test_skip_link_is_first_and_moves_focus_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Start the screening"


def test_keyboard_reaches_the_crisis_page_from_the_header(page):
    page.goto("/learn/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "More crisis help":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/crisis/")
    assert page.get_by_role("heading", level=1).inner_text() == "Help in a crisis"


def test_phone_layout_keeps_every_section_two_taps_away(phone_page):
    phone_page.goto("/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.get_by_text("Menu", exact=True).click()  # tests/e2e/test_navigation.py: the menu itself
    nav = phone_page.get_by_role("navigation", name="Main")
    for label in ("Learn", "Conditions", "Screening", "Book", "FAQ"):
        link = nav.get_by_role("link", name=label, exact=True)
        assert link.is_visible()
        box = link.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24  # WCAG 2.2 target size
    assert_no_axe_violations(phone_page)
