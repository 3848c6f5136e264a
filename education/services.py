"""Writes and side effects of the education app: keeping cached pages in step with the content."""

import time

from django.core.cache import cache

CONTENT_VERSION_KEY = "education:content-version"


def content_version() -> int:
    # A nanosecond timestamp, so a version lost from the cache is never reused by accident.
    return cache.get_or_set(CONTENT_VERSION_KEY, time.time_ns, timeout=None)


def content_changed() -> None:
    """Retire every cached education page, in this process at once and in the others within a second."""
    from education.caching import forget_local_pages

    cache.set(CONTENT_VERSION_KEY, time.time_ns(), timeout=None)
    forget_local_pages()
