from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task
def clear_expired_sessions() -> None:
    """Expired sessions may hold half-finished forms: remove them rather than keep them."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
