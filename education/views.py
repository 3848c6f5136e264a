from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from education import selectors
from education.caching import cached_content_page
from education.markdown import render_document
from education.models import Article


def medical_web_page(*, request, name: str, description: str, reviewed_on, reviewed_by: str, about: str) -> dict:
    """schema.org MedicalWebPage data for search engines (rendered as JSON-LD)."""
    return {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": name,
        "description": description,
        "url": settings.SITE_URL + request.path,
        "inLanguage": "en-US",
        "lastReviewed": reviewed_on.isoformat(),
        "reviewedBy": {"@type": "Organization", "name": f"{settings.CLINIC_NAME} ({reviewed_by})"},
        "about": {"@type": "Thing", "name": about},
        "publisher": {"@type": "MedicalClinic", "name": settings.CLINIC_NAME, "telephone": settings.CLINIC_PHONE},
    }


@require_safe
def learn_index(request):
    # NUL cannot reach PostgreSQL; nothing else a person types is refused.
    query = request.GET.get("q", "").replace("\x00", "").strip()
    if query:
        return learn_search(request, query)
    return _learn_index_cached(request)


@cached_content_page
def _learn_index_cached(request):
    articles = selectors.article_list()
    categories = [
        (label, [article for article in articles if article.category == value])
        for value, label in Article.Category.choices
    ]
    return render(
        request,
        "education/learn_index.html",
        {
            "categories": [(label, items) for label, items in categories if items],
            "breadcrumbs": [(_("Learn"), None)],
            "meta": {
                "title": _("Learn about ketamine therapy"),
                "description": _(
                    "How ketamine therapy works, how it is given, its benefits and risks, and how to get started."
                ),
            },
        },
    )


def learn_search(request, query: str):
    too_long = len(query) > selectors.SEARCH_MAX_LENGTH
    articles, conditions = selectors.content_search(query)
    faqs = selectors.faq_search(query)
    return render(
        request,
        "education/search.html",
        {
            "query": query[: selectors.SEARCH_MAX_LENGTH],
            "too_long": too_long,
            "articles": articles,
            "conditions": conditions,
            "faqs": faqs,
            "result_count": len(articles) + len(conditions) + len(faqs),
            "breadcrumbs": [(_("Learn"), reverse("education:learn")), (_("Search"), None)],
            "meta": {
                "title": _("Search results"),
                "description": _("Search our articles and answers on ketamine therapy."),
                "noindex": True,
            },
        },
    )


@require_safe
@cached_content_page
def article_detail(request, slug: str):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return reviewed_page(
        request,
        "education/article_detail.html",
        article,
        name=article.title,
        parent=(_("Learn"), reverse("education:learn")),
        about=_("Ketamine therapy"),
        article=article,
        document=render_document(article.body),
        related=selectors.article_related(article),
    )


@require_safe
@cached_content_page
def condition_list(request):
    return render(
        request,
        "education/condition_list.html",
        {
            "conditions": selectors.condition_list(),
            "breadcrumbs": [(_("Conditions"), None)],
            "meta": {
                "title": _("Conditions we treat"),
                "description": _(
                    "The conditions ketamine therapy is used for, and how strong the evidence is for each."
                ),
            },
        },
    )


@require_safe
@cached_content_page
def condition_detail(request, slug: str):
    condition = get_object_or_404(selectors.condition_published(), slug=slug)
    return reviewed_page(
        request,
        "education/condition_detail.html",
        condition,
        name=condition.name,
        parent=(_("Conditions"), reverse("education:conditions")),
        about=condition.name,
        condition=condition,
        document=render_document(condition.body),
    )


def reviewed_page(request, template: str, item, *, name: str, parent: tuple, about: str, **extra):
    """An article or condition page: breadcrumbs, meta tags and MedicalWebPage data from its review."""
    return render(
        request,
        template,
        {
            "breadcrumbs": [parent, (name, None)],
            "meta": {"title": name, "description": item.summary, "type": "article"},
            "structured_data": medical_web_page(
                request=request,
                name=name,
                description=item.summary,
                reviewed_on=item.reviewed_on,
                reviewed_by=item.reviewed_by,
                about=about,
            ),
            **extra,
        },
    )


@require_safe
@cached_content_page
def faq(request):
    faqs = selectors.faq_list()
    latest = max(faqs, key=lambda item: item.reviewed_on, default=None)
    references = list(dict.fromkeys(reference for item in faqs for reference in item.reference_list()))
    return render(
        request,
        "education/faq.html",
        {
            "faqs": faqs,
            "breadcrumbs": [(_("Frequently asked questions"), None)],
            "latest_review": latest,
            "references": references,
            "meta": {
                "title": _("Frequently asked questions"),
                "description": _(
                    "Common questions about ketamine therapy: sessions, driving, costs, medications and safety."
                ),
            },
        },
    )
