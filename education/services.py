"""Writes and side effects of the education app: keeping cached pages in step with the content."""

from education.caching import forget_local_pages


def content_changed() -> None:
    """Retire every cached education page: in this process at once, in the others within a
    second (education/caching.py reads the content's version from the database)."""
    forget_local_pages()
