"""The FAQ page: a contents list at the top, each answer folded under its question, and every
answer findable from the search box, on a fixed number of queries."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.db import connection

from education.selectors import faq_search
from tests.conftest import clear_caches
from tests.factories import ArticleFactory, ConditionFactory, FAQFactory

pytestmark = pytest.mark.django_db


@dataclass
class Folded:
    """One <details> as a patient meets it: the question shown, and what opens beneath it."""

    open: bool
    question: str = ""
    answer: str = ""
    ids: list[str] = field(default_factory=list)


class FAQPage(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.contents: list[tuple[str, str]] = []  # (href, link text) in the contents list
        self.folded: list[Folded] = []
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self._in_contents = False
        self._in_main = False
        self._link: list | None = None
        self._details: Folded | None = None
        self._in_summary = False
        self._heading: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-labelledby") == "faq-contents-heading":
            self._in_contents = True
        elif tag == "a" and self._in_contents:
            self._link = [attrs["href"], ""]
        elif tag == "main":
            self._in_main = True
        elif tag == "details" and self._in_main:  # not the header's menu
            self._details = Folded(open="open" in attrs)
            self.folded.append(self._details)
        elif tag == "summary":
            self._in_summary = True
        elif tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        if self._details is not None and "id" in attrs:
            self._details.ids.append(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_contents = False
        elif tag == "a" and self._link is not None:
            self.contents.append((self._link[0], self._link[1].strip()))
            self._link = None
        elif tag == "details":
            self._details = None
        elif tag == "summary":
            self._in_summary = False
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data
        if self._heading is not None:
            self._heading[1] += data
        if self._details is not None:
            if self._in_summary:
                self._details.question += data.strip()
            else:
                self._details.answer += data


def faq_page(client) -> FAQPage:
    response = client.get("/faq/")
    assert response.status_code == 200
    return FAQPage(response.content.decode())


# --- The page --------------------------------------------------------------------------


def test_the_contents_list_links_to_every_question_in_order(client):
    second = FAQFactory(question="Can I drive home?", order=2)
    first = FAQFactory(question="How long is a session?", order=1)
    page = faq_page(client)
    assert page.contents == [(f"#faq-{first.pk}", "How long is a session?"), (f"#faq-{second.pk}", "Can I drive home?")]
    # Each link leads into the one folded answer under that very question.
    for href, question in page.contents:
        [target] = [item for item in page.folded if href[1:] in item.ids]
        assert target.question == question


def test_every_answer_is_folded_under_its_question_and_closed_at_first(client):
    FAQFactory(question="Will I feel strange?", answer="Many people feel *detached* for a short while.")
    FAQFactory(question="Is it covered by insurance?", answer="Often **not**; ask us for a receipt.")
    page = faq_page(client)
    assert [(item.question, " ".join(item.answer.split())) for item in page.folded] == [
        ("Will I feel strange?", "Many people feel detached for a short while."),
        ("Is it covered by insurance?", "Often not; ask us for a receipt."),
    ]
    assert not any(item.open for item in page.folded)


def test_questions_stay_headings_under_the_page_title(client):
    FAQFactory(question="What should I bring?")
    headings = faq_page(client).headings
    assert headings[0] == ("h1", "Frequently asked questions")
    assert ("h2", "Questions on this page") in headings
    assert ("h2", "What should I bring?") in headings


def test_a_questions_link_survives_reordering_and_rewording(client):
    faq = FAQFactory(question="Old wording?", order=1)
    FAQFactory(question="Another?", order=2)
    before = faq_page(client).contents[0][0]
    faq.question, faq.order = "New wording?", 5
    faq.save()
    after = dict((text, href) for href, text in faq_page(client).contents)
    assert after["New wording?"] == before == f"#faq-{faq.pk}"


def test_an_unpublished_question_is_in_neither_the_contents_nor_the_answers(client):
    FAQFactory(question="Shown?")
    FAQFactory(question="Draft?", answer="Not ready.", published=False)
    page = faq_page(client)
    assert [text for _, text in page.contents] == ["Shown?"]
    assert [item.question for item in page.folded] == ["Shown?"]


def test_a_page_without_questions_has_no_empty_contents_list(client):
    page = faq_page(client)
    assert page.contents == [] and page.folded == []
    assert "Please call us with any questions." in client.get("/faq/").content.decode()


def test_question_text_cannot_inject_markup(client):
    FAQFactory(question="Is <b>this</b> & that safe?")
    html = client.get("/faq/").content.decode()
    assert "<b>this</b>" not in html
    assert html.count("Is &lt;b&gt;this&lt;/b&gt; &amp; that safe?") == 2  # contents and summary


# --- Search --------------------------------------------------------------------------------


def test_a_word_only_an_faq_answer_holds_finds_that_faq(client):
    ArticleFactory(title="Preparing for a session", body="Eat lightly.")
    ConditionFactory(name="Depression", body="Low mood.")
    FAQFactory(question="Anything else?", answer="Nothing else.")
    faq = FAQFactory(question="What should I wear?", answer="Loose clothes; some patients bring a quornwattle blanket.")
    html = client.get("/learn/", {"q": "quornwattle"}).content.decode()
    assert "1 result for “quornwattle”." in html
    assert f'href="/faq/#faq-{faq.pk}">What should I wear?</a>' in html
    assert "Anything else?" not in html
    # The link lands on that answer on the FAQ page.
    assert (f"#faq-{faq.pk}", "What should I wear?") in faq_page(client).contents


def test_a_search_result_shows_the_answer_as_plain_words(client):
    FAQFactory(question="Where is the clinic?", answer="Near the **station**; see [the map](https://example.org/map).")
    html = client.get("/learn/", {"q": "station"}).content.decode()
    assert "Frequently asked question: Near the station; see the map." in html
    assert "**" not in html and "example.org/map" not in html


def test_search_lists_faqs_whose_question_matches_before_those_whose_answer_does(client):
    FAQFactory(question="Can I eat first?", answer="Follow the fasting rules in your e-mail.", order=1)
    FAQFactory(question="How does fasting work?", answer="Nothing solid for six hours.", order=2)
    html = client.get("/learn/", {"q": "fasting"}).content.decode()
    assert "2 results for “fasting”." in html
    assert html.index("How does fasting work?") < html.index("Can I eat first?")


def test_search_finds_faq_words_in_other_forms(client):
    FAQFactory(question="Will I be sleepy?", answer="Drowsiness after a session is common.")
    assert "Will I be sleepy?" in client.get("/learn/", {"q": "sessions"}).content.decode()


def test_search_never_shows_an_unpublished_faq(client):
    FAQFactory(question="Draft?", answer="A glimmerwort answer.", published=False)
    html = client.get("/learn/", {"q": "glimmerwort"}).content.decode()
    assert "0 results for “glimmerwort”." in html
    assert "Draft?" not in html


def test_faq_search_without_postgresql_matches_every_word(monkeypatch):
    """Development on SQLite: no full-text search, but every word must be in the question or answer."""
    FAQFactory(question="Can I drive home?", answer="No: a friend must drive you.")
    FAQFactory(question="Can a friend come?", answer="Yes, to the waiting room.")
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert [faq.question for faq in faq_search("friend drive")] == ["Can I drive home?"]
    assert faq_search("   ") == []


# --- Query budgets --------------------------------------------------------------------------


# The FAQ page: its query, and the content's version (read at most once a second per process,
# education/caching.py). The search is never cached: one query each for articles, conditions, FAQs.
@pytest.mark.parametrize(
    ("path", "params", "budget", "link"),
    [("/faq/", {}, 2, 'href="#faq-'), ("/learn/", {"q": "answer"}, 3, 'href="/faq/#faq-')],
)
def test_query_count_is_the_same_with_5_or_200_faqs(client, django_assert_max_num_queries, path, params, budget, link):
    ArticleFactory.create_batch(3, body="An answer of sorts.")
    ConditionFactory.create_batch(3, body="An answer of sorts.")
    FAQFactory.create_batch(5)
    with django_assert_max_num_queries(budget):
        small = client.get(path, params)
    FAQFactory.create_batch(195)
    clear_caches()
    with django_assert_max_num_queries(budget):
        large = client.get(path, params)
    assert small.status_code == large.status_code == 200
    # Every factory FAQ answers "An answer in plain words.": all 200 are listed, each linked once.
    assert small.content.decode().count(link) == 5
    assert large.content.decode().count(link) == 200
