"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every request a page makes is checked: anything not addressed to the live server is
aborted and fails the test (no CDN, fonts or analytics, ever).
"""

import os
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in the test thread; the ORM calls that fixtures
    make in that same thread are still synchronous and safe. Only for the browser tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's Chromium is missing: apt-get update && apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a patient would never want: requests elsewhere, script errors, CSP blocks."""

    def __init__(self, origin_host: str):
        self.origin_host = origin_host
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []

    def route(self, route):
        url = route.request.url
        if urlsplit(url).hostname == self.origin_host:
            route.continue_()
        else:
            self.foreign_requests.append(url)
            route.abort()

    def console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)


@pytest.fixture
def page_watch(live_server):
    return PageWatch(urlsplit(live_server.url).hostname)


def _page(browser, live_server, page_watch, **context_options):
    context = browser.new_context(base_url=live_server.url, **context_options)
    page = context.new_page()
    page.route("**/*", page_watch.route)
    page.on("console", page_watch.console)
    page.on("pageerror", lambda error: page_watch.console_errors.append(str(error)))
    return context, page


@pytest.fixture
def page(browser, live_server, page_watch):
    context, page = _page(browser, live_server, page_watch, viewport={"width": 1280, "height": 900})
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"


@pytest.fixture
def phone_page(browser, live_server, page_watch):
    context, page = _page(
        browser, live_server, page_watch, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"


@pytest.fixture
def chicago_page(browser, live_server, page_watch):
    """A visitor whose computer is set to Central time (the clinic is on Eastern time)."""
    context, page = _page(browser, live_server, page_watch, timezone_id="America/Chicago")
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"
