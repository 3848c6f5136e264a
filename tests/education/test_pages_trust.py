"""The pages a patient decides on: the home page's sections and honest, sourced outcome
statements; article and condition pages with a contents list drawn from their headings."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from education.markdown import HEADING_ID_PREFIX, render_document
from education.models import Article, Condition
from telemed.outcomes import OUTCOMES
from tests.conftest import clear_caches
from tests.factories import ArticleFactory, ConditionFactory
from tests.frame import CRISIS_LINKS

pytestmark = pytest.mark.django_db

HOME_SECTIONS = [
    "What a visit is like",
    "What we offer",
    "What research shows, honestly",
    "How to get started",
    "If you are in crisis now",
]


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def section(html: str, heading: str) -> str:
    match = re.search(rf"<section[^>]*>\s*<h2[^>]*>{re.escape(heading)}</h2>.*?</section>", html, re.S)
    assert match, f"no section {heading!r}"
    return match.group(0)


def test_the_home_page_leads_with_what_we_offer_and_the_two_ways_to_start(client):
    html = home(client)
    hero = re.search(r'<section class="home-hero".*?</section>', html, re.S).group(0)
    assert "<h1" in hero and "Ketamine therapy, with a careful assessment first" in hero
    assert '<a class="btn btn-primary btn-lg" href="/screening/">Start the screening</a>' in hero
    assert '<a class="btn btn-outline-primary btn-lg" href="/book/">Book a consultation</a>' in hero
    assert re.search(r'<svg class="illo illo-hero"[^>]*aria-hidden="true"', hero)


def test_the_home_page_has_each_section_in_order(client):
    html = home(client)
    positions = [html.index(f">{heading}</h2>") for heading in HOME_SECTIONS]
    assert positions == sorted(positions)
    visit = section(html, "What a visit is like")
    steps = re.findall(r"<h3>([^<]+)</h3>", visit)
    assert steps == ["Consultation", "A plan", "Monitored sessions", "Follow-up"]
    assert visit.count('<li class="journey-step">') == 4
    assert "45-minute video call" in visit and "at least two hours" in visit and "drives you home" in visit


def test_the_crisis_line_is_on_the_home_page_itself(client):
    crisis = section(home(client), "If you are in crisis now")
    assert "Call or text <strong>988</strong>" in crisis and "<strong>911</strong>" in crisis
    for link in CRISIS_LINKS:
        assert link in crisis


def test_each_outcome_statement_is_shown_with_every_one_of_its_sources(client):
    evidence = section(home(client), "What research shows, honestly")
    cards = re.findall(r'<li class="outcome">(.*?)</li>\s*(?=<li class="outcome">|</ul>)', evidence, re.S)
    assert len(cards) == len(OUTCOMES)
    for card, outcome in zip(cards, OUTCOMES, strict=True):
        assert str(outcome.statement) in card
        for source in outcome.sources:
            assert f"<cite>{source.citation}</cite>" in card
            if source.url:
                assert f'<a href="{source.url}" rel="noopener noreferrer">{source.identifier}</a>' in card
        assert f'<a href="{outcome.read_more_url}">' in card
    assert "never guaranteed" in evidence


def test_the_page_each_outcome_links_to_cites_the_same_sources(client, shipped_content):
    """A statement and the page it sends the reader to rest on the same evidence."""
    for outcome in OUTCOMES:
        response = client.get(outcome.read_more_url)
        assert response.status_code == 200, outcome.read_more_url
        cited = " ".join(
            reference
            for page in [*Article.objects.published(), *Condition.objects.published()]
            if page.get_absolute_url() == outcome.read_more_url or outcome.read_more_url == "/conditions/"
            for reference in page.reference_list()
        )
        for source in outcome.sources:
            first_author = source.citation.split(" et al.")[0].split(" (")[0].split(",")[0]
            assert first_author in cited, (outcome.read_more_url, first_author)


def test_no_link_on_the_home_page_leads_nowhere(client, shipped_content):
    html = client.get("/").content.decode()
    targets = set(re.findall(r'href="(/[^"#]*)"', html))
    assert {"/screening/", "/book/", "/learn/getting-started/", "/crisis/"} <= targets
    for target in sorted(targets):
        if not target.startswith("/static/"):
            assert client.get(target).status_code == 200, target


def test_outcome_statements_promise_nothing():
    for outcome in OUTCOMES:
        text = f"{outcome.heading} {outcome.statement}".lower()
        for word in ("guarantee", "cure", "will work", "proven", "%"):
            assert word not in text, (word, outcome.heading)


# --- Contents lists -------------------------------------------------------------------------


def contents_links(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="page-contents" aria-label="Contents">(.*?)</nav>', html, re.S)
    assert nav, "no contents list"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav.group(1))


def test_an_articles_contents_list_links_to_each_of_its_headings(client):
    ArticleFactory(
        slug="guide",
        body="Intro.\n\n## Before you come in\n\nText.\n\n### What to bring\n\nText.\n\n## It's after & later\n\nEnd.",
    )
    html = client.get("/learn/guide/").content.decode()
    links = contents_links(html)
    assert [(target, unescape(title)) for target, title in links] == [
        ("section-before-you-come-in", "Before you come in"),
        ("section-what-to-bring", "What to bring"),
        ("section-its-after-later", "It’s after & later"),
    ]
    for target, _title in links:
        assert len(re.findall(rf'<h[23] id="{target}">', html)) == 1, target
    # The contents sit before the body, after the review line, which is kept.
    assert html.index("Reviewed on") < html.index('aria-label="Contents"') < html.index('id="section-before')


def test_a_condition_page_has_its_contents_list_and_keeps_its_evidence_note(client):
    ConditionFactory(slug="probe", body="## What the research shows\n\nA.\n\n## What to expect\n\nB.")
    html = client.get("/conditions/probe/").content.decode()
    assert [target for target, _title in contents_links(html)] == [
        "section-what-the-research-shows",
        "section-what-to-expect",
    ]
    assert "How strong is the evidence?" in html and "References" in html


def test_a_page_with_one_heading_or_none_has_no_contents_list(client):
    ArticleFactory(slug="short", body="## Only one\n\nText.")
    assert 'aria-label="Contents"' not in client.get("/learn/short/").content.decode()


def test_every_shipped_page_links_its_contents_to_its_headings(client, shipped_content):
    pages = [*Article.objects.published(), *Condition.objects.published()]
    for page in pages:
        html = client.get(page.get_absolute_url()).content.decode()
        links = contents_links(html)
        assert len(links) >= 2, page.get_absolute_url()
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), "duplicate ids"
        for target, _title in links:
            assert target in ids, (page.get_absolute_url(), target)


def queries_for(client, path: str) -> int:
    clear_caches()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_an_articles_queries_do_not_grow_with_its_headings(client):
    ArticleFactory(slug="few", body="## One\n\nA.\n\n## Two\n\nB.")
    ArticleFactory(slug="many", body="\n\n".join(f"## Heading {n}\n\n### Sub {n}\n\nText." for n in range(60)))
    assert queries_for(client, "/learn/many/") == queries_for(client, "/learn/few/") <= 3


# --- Headings' ids, sanitised -----------------------------------------------------------------


def test_heading_ids_are_prefixed_unique_and_only_on_the_listed_headings():
    document = render_document(
        '## Main\n\n## Main\n\n<h2 id="main">Raw</h2>\n\n<h3 id="section-main">Raw copy</h3>\n\n'
        '#### Deep\n\n<p id="x">para</p>\n\n## 中文标题'
    )
    html = document.html
    assert re.findall(r'id="([^"]+)"', html) == ["section-main", "section-main_1", "section-中文标题"]
    assert [entry.id for entry in document.contents] == ["section-main", "section-main_1", "section-中文标题"]
    assert all(entry.id.startswith(HEADING_ID_PREFIX) for entry in document.contents)
    assert "<h2>Raw</h2>" in html and "<h4>Deep</h4>" in html


def test_headings_with_markup_give_plain_titles_and_stay_inert():
    document = render_document('## <script>alert(1)</script> *Risks* & "care"\n\n## <img src=x onerror=alert(1)>Two')
    assert "<script" not in document.html and "onerror" not in document.html and "<img" not in document.html
    titles = [entry.title for entry in document.contents]
    assert titles[0] == "alert(1) Risks & “care”"  # text only; the template escapes it


@pytest.mark.parametrize("text", ["## " + "x" * 20000 + "\n\n## y", "## \u202e\u0301!!\n\n## ?", "## \n\n##"])
def test_odd_bodies_still_render_a_page(client, text):
    ArticleFactory(slug="odd", body=text)
    assert client.get("/learn/odd/").status_code == 200


def test_a_nul_character_renders_harmlessly():  # the admin refuses it; older rows or imports may not
    document = render_document("## A\x00b\n\n## C")
    assert "\x00" not in document.html
    assert len(document.contents) == 2
