"""Each education page runs a fixed number of queries however much content there is, and is
served from the cache until staff change something."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from education import caching
from education.models import Article
from tests.conftest import clear_caches
from tests.factories import ArticleFactory, ConditionFactory, FAQFactory, StaffUserFactory, staff_sign_in

pytestmark = pytest.mark.django_db

# Queries per page when it is not cached, with the content's version (one query, read from the
# database at most once a second per process: education/caching.py); the sitemap has no version.
BUDGETS = {
    "/learn/": 2,
    "/learn/article-probe/": 3,
    "/conditions/": 2,
    "/conditions/condition-probe/": 3,
    "/faq/": 2,
    "/sitemap.xml": 4,
}
PAGES = list(BUDGETS)


def make_content(count: int) -> None:
    ArticleFactory.create_batch(count)
    conditions = ConditionFactory.create_batch(count)
    FAQFactory.create_batch(count)
    for condition in conditions[:3]:
        condition.related_articles.set(Article.objects.all()[:5])


def queries_for(client, path: str) -> int:
    clear_caches()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.fixture
def probes():
    ArticleFactory(slug="article-probe")
    condition = ConditionFactory(slug="condition-probe")
    condition.related_articles.set([ArticleFactory()])


@pytest.mark.parametrize("path", PAGES)
def test_query_count_is_the_same_at_5_and_200_items(client, probes, path):
    make_content(5)
    small = queries_for(client, path)
    make_content(195)
    assert queries_for(client, path) == small
    assert small <= BUDGETS[path]


@pytest.mark.parametrize("path", PAGES[:5])
def test_a_cached_page_runs_no_query(client, probes, django_assert_num_queries, path):
    client.get(path)
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200


def test_a_staff_edit_in_the_admin_shows_at_once(client, probes):
    article = Article.objects.get(slug="article-probe")
    assert "Updated wording" not in client.get("/learn/article-probe/").content.decode()
    staff = StaffUserFactory(is_superuser=True)
    staff_client = type(client)()
    staff_sign_in(staff_client, staff)
    form = {
        "title": "Updated wording",
        "slug": "article-probe",
        "category": "basics",
        "summary": article.summary,
        "body": article.body,
        "reviewed_on": "2026-11-24",
        "reviewed_by": "Dr. Test Reviewer, MD",
        "references": article.references,
        "published": "on",
        "order": "1",
    }
    response = staff_client.post(f"/admin/education/article/{article.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Updated wording" in client.get("/learn/article-probe/").content.decode()
    assert "Updated wording" in client.get("/learn/").content.decode()


def test_unpublishing_removes_a_cached_page_at_once(client, probes):
    assert client.get("/learn/article-probe/").status_code == 200
    Article.objects.get(slug="article-probe").delete()
    assert client.get("/learn/article-probe/").status_code == 404


def test_search_results_are_never_served_from_the_page_cache(client, probes, django_assert_max_num_queries):
    client.get("/learn/", {"q": "article"})
    with django_assert_max_num_queries(3):  # articles, conditions, FAQ answers
        assert client.get("/learn/", {"q": "article"}).status_code == 200


def test_other_processes_see_a_change_within_a_second(client, probes, monkeypatch):
    """Another worker's save bumps the shared version; this process notices on its next check."""
    now = [1000.0]
    monkeypatch.setattr(caching, "clock", lambda: now[0])
    assert "Changed elsewhere" not in client.get("/learn/article-probe/").content.decode()
    # A save in another process: no signal here, the row's updated_at moves.
    Article.objects.filter(slug="article-probe").update(title="Changed elsewhere", updated_at=timezone.now())
    now[0] += caching.VERSION_RECHECK_SECONDS / 2
    assert "Changed elsewhere" not in client.get("/learn/article-probe/").content.decode()
    now[0] += caching.VERSION_RECHECK_SECONDS
    assert "Changed elsewhere" in client.get("/learn/article-probe/").content.decode()


def test_a_change_made_while_the_shared_cache_was_down_is_not_lost(client, probes, monkeypatch):
    """The version comes from the database: a page cached in Redis before an edit is not
    served after it, even if the edit's moment never reached Redis."""
    now = [1000.0]
    monkeypatch.setattr(caching, "clock", lambda: now[0])
    assert "Edited offline" not in client.get("/learn/article-probe/").content.decode()
    caching.forget_local_pages()  # another process: only the shared cache holds the old page
    Article.objects.filter(slug="article-probe").update(title="Edited offline", updated_at=timezone.now())
    now[0] += caching.VERSION_RECHECK_SECONDS
    assert "Edited offline" in client.get("/learn/article-probe/").content.decode()
