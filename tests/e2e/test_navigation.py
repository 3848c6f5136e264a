"""The main navigation: on a phone a menu button that opens and closes it by keyboard, with or
without JavaScript; on a desk one row of links. Axe finds nothing either way."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from tests.booking.test_schedule import visit
from tests.e2e.conftest import _page
from tests.factories import ClinicianFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECTIONS = ("Learn", "Conditions", "Screening", "Book", "FAQ")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def assert_accessible(page):
    if not page.context.javascript_enabled:
        return  # axe runs as a script in the page; the same HTML and CSS are checked with JavaScript on
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def phone(request, browser, live_server, page_watch):
    context, page = _page(browser, live_server, page_watch, java_script_enabled=request.param, **PHONE)
    context.javascript_enabled = request.param
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"


def tab_to(page, name: str, presses: int = 15) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} is not reachable by Tab")


def test_the_phone_menu_opens_and_closes_by_keyboard(phone):
    phone.goto("/faq/")
    nav = phone.get_by_role("navigation", name="Main")
    menu = phone.get_by_role("group").filter(has=phone.locator("summary")).first
    button = phone.locator(".site-menu > summary")
    assert button.is_visible() and button.inner_text().strip() == "Menu"
    assert not nav.get_by_role("link", name="Learn", exact=True).is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The whole header (crisis bar, brand, number, button) leaves most of the screen to the page.
    assert phone.get_by_role("banner").bounding_box()["height"] <= 220
    assert_accessible(phone)

    tab_to(phone, "Menu")
    phone.keyboard.press("Enter")
    assert menu.get_attribute("open") is not None
    for label in SECTIONS:
        link = nav.get_by_role("link", name=label, exact=True)
        assert link.is_visible()
        box = link.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 200  # a full-width row, easy to tap
    assert nav.get_by_role("link", name="FAQ", exact=True).get_attribute("aria-current") == "page"
    assert_accessible(phone)

    phone.keyboard.press("Tab")  # into the menu, first section
    assert phone.evaluate("document.activeElement.textContent.trim()") == "Learn"
    phone.keyboard.press("Shift+Tab")
    phone.keyboard.press(" ")  # the button closes it again
    assert menu.get_attribute("open") is None
    assert not nav.get_by_role("link", name="Learn", exact=True).is_visible()


def test_a_section_is_reached_from_the_phone_menu(phone):
    phone.goto("/")
    phone.locator(".site-menu > summary").click()
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Book", exact=True).click()
    phone.wait_for_url("**/book/")
    assert phone.get_by_role("heading", level=1).is_visible()
    assert phone.locator(".site-menu").get_attribute("open") is None  # a new page starts with it closed


def test_the_crisis_line_stays_in_sight_on_a_phone(phone):
    phone.goto("/learn/")
    banner = phone.get_by_role("banner")
    for name in ("988", "911"):
        link = banner.get_by_role("link", name=name).first
        assert link.is_visible() and link.bounding_box()["y"] < 100


def test_on_a_desk_the_navigation_is_one_row_without_a_button(page):
    page.context.javascript_enabled = True
    page.goto("/learn/")
    assert not page.locator(".site-menu > summary").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    tops = set()
    for label in SECTIONS:
        link = nav.get_by_role("link", name=label, exact=True)
        assert link.is_visible()
        tops.add(round(link.bounding_box()["y"]))
    assert len(tops) == 1, tops
    brand = page.get_by_role("link", name="Harbor Health Clinic")
    phone_number = page.get_by_role("banner").get_by_role("link", name="Call the clinic")
    assert abs(brand.bounding_box()["y"] - phone_number.bounding_box()["y"]) < 30  # brand, links and number: one row
    assert nav.get_by_role("link", name="Learn", exact=True).get_attribute("aria-current") == "page"
    tab_to(page, "Learn")  # the links are in the tab order, no hidden button before them
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Conditions"
    tab_to(page, nav.get_by_role("link").last.inner_text(), presses=8)
    page.keyboard.press("Tab")  # the keyboard goes left to right, as the eye does: the number last
    assert page.evaluate("document.activeElement.className") == "site-phone"
    assert_accessible(page)


def test_printing_a_visit_leaves_its_instructions_black_on_white_without_navigation_or_buttons(page):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    appointment = visit(ClinicianFactory(name="Dr. Chen"), start, slug="iv-infusion")
    page.goto(f"/appointments/{appointment.token}/")
    buttons = page.locator("main .btn")
    assert buttons.count() > 0 and buttons.first.is_visible()
    page.emulate_media(media="print")
    assert page.get_by_role("heading", level=1).is_visible()
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert not page.locator(".site-menu").is_visible()
    assert all(not button.is_visible() for button in buttons.all())
    assert page.get_by_role("banner").get_by_role("link", name="988").first.is_visible()  # crisis line kept
    colours = page.evaluate(
        """[...document.querySelectorAll('main *')].filter(e => e.offsetParent !== null)
           .map(e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor])"""
    )
    assert {colour for colour, _ in colours} == {"rgb(0, 0, 0)"}
    assert {background for _, background in colours} <= {"rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"}
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
