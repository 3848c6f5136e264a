import json
import re

import pytest
from django.test import override_settings

from education.models import FAQ, Article, Condition
from tests.factories import ArticleFactory, ConditionFactory, FAQFactory
from tests.frame import assert_frame

pytestmark = pytest.mark.django_db


def json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


# --- The shipped content -----------------------------------------------------------------


def test_shipped_content_covers_every_topic(shipped_content):
    assert set(Article.objects.published().values_list("slug", flat=True)) >= {
        "how-ketamine-works",
        "how-treatment-is-given",
        "what-a-session-is-like",
        "benefits",
        "risks-and-side-effects",
        "who-should-not-have-ketamine",
        "getting-started",
    }
    assert set(Condition.objects.published().values_list("slug", flat=True)) == {
        "depression",
        "anxiety",
        "ptsd",
        "bipolar-depression",
        "chronic-pain",
    }
    assert FAQ.objects.published().count() >= 8


def test_every_shipped_page_shows_review_references_and_crisis_help(client, shipped_content):
    pages = [a.get_absolute_url() for a in Article.objects.all()] + [
        c.get_absolute_url() for c in Condition.objects.all()
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Reviewed on November 25, 2026 by" in html, url
        references = re.search(r'<section class="references.*?<ol class="small">(.*?)</ol>', html, re.S)
        assert references and references.group(1).count("<li>") >= 1, url
        assert_frame(html)


@pytest.mark.parametrize("path", ["/learn/", "/conditions/", "/faq/"])
def test_index_pages_list_the_shipped_content(client, shipped_content, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert_frame(html)
    assert 'aria-label="Breadcrumb"' in html
    assert 'href="/screening/">Start the screening</a>' in html


def test_shipped_bodies_link_only_to_pages_that_exist(client, shipped_content):
    """A link in an article that leads nowhere would strand a patient."""
    bodies = [a.body for a in Article.objects.all()] + [c.body for c in Condition.objects.all()]
    bodies += [f.answer for f in FAQ.objects.all()]
    targets = {target for body in bodies for target in re.findall(r"\]\((/[^)\s]*)\)", body)}
    assert targets, "the content links to no other page"
    for target in sorted(targets):
        assert client.get(target).status_code == 200, target


def test_shipped_bodies_have_no_raw_html_or_external_links(shipped_content):
    for text in [a.body for a in Article.objects.all()] + [c.body for c in Condition.objects.all()]:
        assert "<" not in text
        assert "](http" not in text


# --- Article page ----------------------------------------------------------------------


def test_article_page_shows_its_content_and_metadata(client):
    article = ArticleFactory(
        slug="how-it-works", title="How it works", summary="What ketamine does.", body="## Glutamate\n\nText."
    )
    ArticleFactory(category="basics", title="A related one")
    html = client.get("/learn/how-it-works/").content.decode()
    assert "<h1>How it works</h1>" in html
    assert '<h2 id="section-glutamate">Glutamate</h2>' in html
    assert "Reviewed on November 1, 2026 by Dr. Test Reviewer, MD." in html
    assert "Zarate CA Jr et al." in html
    assert "A related one" in html
    assert '<meta name="description" content="What ketamine does.">' in html
    assert '<meta property="og:title" content="How it works">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<link rel="canonical" href="http://127.0.0.1:8000/learn/how-it-works/">' in html
    data = json_ld(html)
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == article.title
    assert data["lastReviewed"] == "2026-11-01"


def test_json_ld_cannot_break_out_of_its_script_element(client):
    ArticleFactory(slug="tricky", title="</script><script>alert(1)</script>")
    html = client.get("/learn/tricky/").content.decode()
    assert "</script><script>alert(1)" not in html
    assert json_ld(html)["name"] == "</script><script>alert(1)</script>"


def test_article_body_with_script_renders_inert(client):
    ArticleFactory(
        slug="unsafe",
        body='<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n[x](javascript:alert(1))',
    )
    html = client.get("/learn/unsafe/").content.decode()
    body = html.split('<article class="reading">')[1].split("</article>")[0]
    assert "<script" not in body and "onerror" not in body and "javascript:" not in body


# --- Unpublished content is never shown ------------------------------------------------


def test_unpublished_content_is_hidden_everywhere(client):
    ArticleFactory(slug="draft", title="Draft article", published=False)
    ConditionFactory(slug="draft-condition", name="Draft condition", published=False)
    FAQFactory(question="Draft question?", published=False)
    assert client.get("/learn/draft/").status_code == 404
    assert client.get("/conditions/draft-condition/").status_code == 404
    assert "Draft article" not in client.get("/learn/").content.decode()
    assert "Draft condition" not in client.get("/conditions/").content.decode()
    assert "Draft question?" not in client.get("/faq/").content.decode()
    assert "Draft article" not in client.get("/learn/?q=Draft").content.decode()
    assert "/learn/draft/" not in client.get("/sitemap.xml").content.decode()


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/learn/no-such-article/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


# --- Condition and FAQ pages -----------------------------------------------------------


def test_condition_page_shows_evidence_note_and_related_reading(client):
    condition = ConditionFactory(slug="ptsd", name="PTSD", evidence_note="Results are mixed.")
    condition.related_articles.add(ArticleFactory(title="Risks and side effects"))
    condition.related_articles.add(ArticleFactory(title="Unpublished one", published=False))
    html = client.get("/conditions/ptsd/").content.decode()
    assert "How strong is the evidence?</strong> Results are mixed." in html
    assert "Risks and side effects" in html
    assert "Unpublished one" not in html
    assert json_ld(html)["about"]["name"] == "PTSD"


def test_faq_page_lists_questions_in_order_with_one_review_line(client):
    FAQFactory(question="Second?", order=2)
    FAQFactory(question="First?", order=1, reviewed_on="2026-11-20")
    html = client.get("/faq/").content.decode()
    assert html.index("First?") < html.index("Second?")
    assert html.count("Reviewed on") == 1
    assert "Reviewed on November 20, 2026" in html


# --- Search ------------------------------------------------------------------------------


def test_search_ranks_title_matches_first_and_stems_words(client):
    ArticleFactory(slug="mentions", title="Preparing", body="Some people feel dissociation for a while.")
    ArticleFactory(slug="about", title="Dissociation explained", body="Text.")
    ArticleFactory(slug="other", title="Unrelated", body="Nothing here.")
    html = client.get("/learn/", {"q": "dissociative"}).content.decode()
    assert "2 results for “dissociative”." in html
    assert html.index("Dissociation explained") < html.index("Preparing")
    assert "Unrelated" not in html.split("<h1>")[1]
    assert '<meta name="robots" content="noindex">' in html


def test_search_finds_conditions_too(client):
    ConditionFactory(name="Chronic pain", summary="Pain that lasts.")
    html = client.get("/learn/", {"q": "pain"}).content.decode()
    assert "Chronic pain" in html


def test_search_without_results_helps_the_patient_on(client):
    html = client.get("/learn/", {"q": "zebra"}).content.decode()
    assert "0 results for “zebra”." in html
    assert "Try a different word" in html


@pytest.mark.parametrize("query", ['"unbalanced', "a & | ! (", "-", "' OR 1=1 --", "\x00", "x" * 5000, "€漢字"])
def test_search_survives_any_input(client, query):
    response = client.get("/learn/", {"q": query})
    assert response.status_code in (200, 400)
    if len(query) > 100:
        assert "first 100 characters" in response.content.decode()


def test_search_keeps_what_was_typed_in_the_box(client):
    html = client.get("/learn/", {"q": "nasal <spray>"}).content.decode()
    assert 'value="nasal &lt;spray&gt;"' in html


# --- sitemap and robots ----------------------------------------------------------------


def test_sitemap_lists_pages_articles_and_conditions(client):
    ArticleFactory(slug="works")
    ConditionFactory(slug="anxiety")
    xml = client.get("/sitemap.xml").content.decode()
    for path in ("/learn/works/", "/conditions/anxiety/", "/faq/", "/crisis/"):
        assert f"{path}</loc>" in xml


@override_settings(SITE_URL="https://clinic.example.org")
def test_robots_keeps_private_pages_out_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Disallow: /appointments/" in text
    assert "Disallow: /screening/result/" in text
    assert "Disallow: /my/" in text  # the portal: a sign-in page and personal pages
    assert "Sitemap: https://clinic.example.org/sitemap.xml" in text


def test_search_without_postgresql_matches_every_word(monkeypatch):
    """Development on SQLite: no full-text search, but every word must appear somewhere."""
    from django.db import connection

    from education.selectors import content_search

    ArticleFactory(title="Nasal spray", body="Given in the clinic.")
    ArticleFactory(title="Infusion", body="A nasal route is not used.")
    ArticleFactory(title="Other", body="Nothing.")
    monkeypatch.setattr(connection, "vendor", "sqlite")
    articles, _ = content_search("nasal clinic")
    assert [article.title for article in articles] == ["Nasal spray"]
