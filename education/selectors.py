"""Reads of published education content, each a fixed number of queries."""

import operator
from functools import reduce

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from education.models import FAQ, Article, Condition

SEARCH_MAX_LENGTH = 100


def article_list() -> list[Article]:
    return list(Article.objects.published().only("slug", "title", "summary", "category", "order"))


def article_related(article: Article, *, limit: int = 3) -> list[Article]:
    """Other articles of the same category first, then the rest in reading order."""
    others = Article.objects.published().exclude(pk=article.pk).only("slug", "title", "summary", "category", "order")
    related = sorted(others, key=lambda other: (other.category != article.category, other.order))
    return related[:limit]


def condition_list() -> list[Condition]:
    return list(Condition.objects.published().only("slug", "name", "summary", "evidence_note", "order"))


def condition_published() -> QuerySet[Condition]:
    return Condition.objects.published().prefetch_related(
        Prefetch("related_articles", queryset=Article.objects.published().only("slug", "title", "summary"))
    )


def faq_list() -> list[FAQ]:
    return list(FAQ.objects.published())


def _search(queryset: QuerySet, query: str, *, fields: tuple[str, ...]) -> QuerySet:
    """Full-text search on PostgreSQL; each field weighs less than the one before (title, summary, body)."""
    if connection.vendor == "postgresql":
        vector = reduce(
            operator.add,
            (SearchVector(field, weight="ABCD"[index], config="english") for index, field in enumerate(fields)),
        )
        search_query = SearchQuery(query, search_type="websearch", config="english")
        return (
            queryset.annotate(document=vector, rank=SearchRank(vector, search_query))
            .filter(document=search_query)
            .order_by("-rank", "order")
        )
    # SQLite (development): every word must appear somewhere in the text.
    for word in query.split():
        queryset = queryset.filter(reduce(operator.or_, (Q(**{f"{field}__icontains": word}) for field in fields)))
    return queryset


def _search_terms(query: str) -> str:
    return query.strip()[:SEARCH_MAX_LENGTH]


def content_search(query: str) -> tuple[list[Article], list[Condition]]:
    query = _search_terms(query)
    if not query:
        return [], []
    articles = _search(Article.objects.published(), query, fields=("title", "summary", "body"))
    conditions = _search(Condition.objects.published(), query, fields=("name", "summary", "body"))
    return list(articles), list(conditions)


def faq_search(query: str) -> list[FAQ]:
    """Published FAQs whose question or answer matches; the page links to each at /faq/#faq-<pk>."""
    query = _search_terms(query)
    if not query:
        return []
    faqs = FAQ.objects.published().only("pk", "question", "answer", "order")
    return list(_search(faqs, query, fields=("question", "answer")))
