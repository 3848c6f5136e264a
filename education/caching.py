"""Whole-page caching of education pages, retired at once when staff change any content."""

from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse

from education.services import content_version

PAGE_TIMEOUT = 60 * 60 * 24


def cached_content_page(view):
    """Serve a GET without query string from the cache; pages are the same for every visitor."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.GET:
            return view(request, *args, **kwargs)
        key = f"education:page:{content_version()}:{request.path}"
        cached = cache.get(key)
        if cached is not None:
            content, content_type = cached
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            cache.set(key, (response.content, response["Content-Type"]), PAGE_TIMEOUT)
        return response

    return wrapper
