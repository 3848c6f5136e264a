"""The site's frame: every page carries the crisis resources, the navigation and the clinic's contact."""

from html.parser import HTMLParser

import pytest
from django.test import RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from telemed.views import server_error
from tests.frame import assert_frame


def public_page_paths(patterns=None, prefix=""):
    """Every URL of the site that takes no parameter, outside the admin: the pages a patient can open."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if route.startswith("admin/") or "<" in route or "^" in route:
            continue
        if isinstance(entry, URLResolver):
            yield from public_page_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route


def test_public_pages_are_found():
    paths = set(public_page_paths())
    assert {"/", "/crisis/", "/learn/", "/conditions/", "/faq/", "/screening/", "/book/"} <= paths


MACHINE_ENDPOINTS = {"/healthz", "/robots.txt", "/sitemap.xml", "/api/slots"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(set(public_page_paths()) - MACHINE_ENDPOINTS))
def test_every_page_shows_crisis_resources(client, path):
    response = client.get(path, follow=True)  # a page that redirects is judged where it lands
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_frame(response.content.decode())


def test_not_found_page_is_friendly_and_keeps_crisis_resources(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html
    assert_frame(html)


@pytest.mark.django_db
def test_server_error_page_keeps_crisis_resources_without_the_database(django_assert_num_queries):
    request = RequestFactory().get("/some-page/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert_frame(html)


@override_settings(DEBUG=False)
def test_an_unhandled_error_shows_the_friendly_500_page(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("telemed.views.HomeView.get", broken)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# The home page reads the care team in one query (tests/booking/test_care_team.py).
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/crisis/", "/screening/"])
def test_pages_run_no_query(client, django_assert_num_queries, path):
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_navigation_marks_the_current_section(client):
    html = client.get("/faq/").content.decode()
    assert '<a href="/faq/" aria-current="page">FAQ</a>' in html
    assert '<a href="/learn/">Learn</a>' in html


@pytest.mark.django_db
def test_navigation_lists_the_sections_in_order(client):
    html = client.get("/").content.decode()
    positions = [
        html.index(f'<a href="{href}"') for href in ("/learn/", "/conditions/", "/screening/", "/book/", "/faq/")
    ]
    assert positions == sorted(positions)


@pytest.mark.django_db  # the home page's care team
def test_home_leads_to_screening_and_booking(client):
    html = client.get("/").content.decode()
    assert 'href="/screening/">Start the screening</a>' in html
    assert 'href="/book/">Book a consultation</a>' in html


def test_crisis_page_gives_988_and_911(client):
    html = client.get("/crisis/").content.decode()
    assert "Call 988" in html and "Text 988" in html and "Call 911" in html
    assert "press 1" in html  # veterans


class ResourceCollector(HTMLParser):
    """Collects every address a browser would load by itself: stylesheets, icons, scripts, images, frames."""

    LOADED = {("link", "href"), ("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src")}

    def __init__(self):
        super().__init__()
        self.addresses = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if (tag, name) in self.LOADED and value:
                self.addresses.append(value)


@pytest.mark.django_db  # the home page's care team
def test_pages_load_nothing_from_other_origins(client):
    collector = ResourceCollector()
    collector.feed(client.get("/").content.decode())
    assert "/static/build/site.min.css" in collector.addresses
    for address in collector.addresses:
        assert address.startswith(("/", "data:")) and not address.startswith("//"), address


@pytest.mark.django_db  # the home page's care team
def test_security_headers(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db  # the home page's care team
@override_settings(CLINIC_NAME="Lakeside Clinic", CLINIC_PHONE="+1 (212) 555-0100", CLINIC_ADDRESS="1 Lake Rd")
def test_clinic_contact_comes_from_settings(client):
    html = client.get("/").content.decode()
    assert "Lakeside Clinic" in html
    assert 'href="tel:+12125550100"' in html
    assert "1 Lake Rd" in html


def test_bootstrap_is_served_from_our_own_static_files(client):
    response = client.get("/static/build/site.min.css")  # built from its Sass sources by `make css`
    assert response.status_code == 200
    assert b"Bootstrap" in b"".join(response.streaming_content)[:200]
