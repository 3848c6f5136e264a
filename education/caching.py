"""Whole-page caching of education pages, retired when staff change any content.

Two tiers: each process keeps the pages it served in memory, and the shared cache (Redis)
holds them for the other processes, under the content's version. The version is read from the
database (row counts and latest changes) at most once per VERSION_RECHECK_SECONDS per process:
the process where staff save sees the change at once, the others within that second, and a
change made while Redis was down is not lost with it (a version kept in Redis was, and the
pages from before the change came back for a day).
"""

import hashlib
import time
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Value
from django.http import HttpResponse

PAGE_TIMEOUT = 60 * 60 * 24
VERSION_RECHECK_SECONDS = 1.0
LOCAL_PAGE_LIMIT = 1000

clock = time.monotonic
_local: dict[str, Any] = {"version": None, "checked_at": float("-inf"), "pages": {}}


def content_version() -> str:
    """The content as the database holds it, in one query: each kind's rows and latest change
    (the admin saves a condition when its linked articles change, so that moves too)."""
    from education.models import FAQ, Article, Condition

    kinds = [
        model.objects.order_by()
        .annotate(kind=Value(index))
        .values("kind")
        .annotate(rows=Count("pk"), latest=Max("updated_at"))
        .values_list("kind", "rows", "latest")
        for index, model in enumerate((Article, Condition, FAQ))
    ]
    state = sorted(kinds[0].union(*kinds[1:], all=True))
    return hashlib.blake2b(repr(state).encode(), digest_size=8).hexdigest()


def current_version() -> str:
    now = clock()
    if now - _local["checked_at"] >= VERSION_RECHECK_SECONDS:
        version = content_version()
        if version != _local["version"]:
            _local["pages"] = {}
            _local["version"] = version
        _local["checked_at"] = now
    return _local["version"]


def forget_local_pages() -> None:
    """Called when this process changes content: its own next request re-reads the version."""
    _local.update(version=None, checked_at=float("-inf"), pages={})


def cached_content_page(view):
    """Serve a GET without query string from the cache; these pages are the same for every visitor."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.GET:
            return view(request, *args, **kwargs)
        version = current_version()
        pages = _local["pages"]
        page = pages.get(request.path)
        if page is None:
            key = f"education:page:{version}:{request.path}"
            page = cache.get(key)
            if page is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return response
                page = (response.content, response["Content-Type"])
                cache.set(key, page, PAGE_TIMEOUT)
            if len(pages) < LOCAL_PAGE_LIMIT:
                pages[request.path] = page
        content, content_type = page
        return HttpResponse(content, content_type=content_type)

    return wrapper
