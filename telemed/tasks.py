from importlib import import_module

from celery import shared_task
from django.conf import settings

from telemed.retention import retention_apply


@shared_task
def clear_expired_sessions() -> None:
    """Expired sessions may hold half-finished forms: remove them rather than keep them."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


# Daily (beat "apply-retention"). The first pass after a long gap may have much to do: more time
# than the default limit; a pass stopped anyway keeps its committed batches.
@shared_task(time_limit=15 * 60, soft_time_limit=14 * 60)
def apply_retention() -> dict[str, int]:
    return retention_apply()
