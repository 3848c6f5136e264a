"""System checks that turn a wrong production configuration into a one-line explanation."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from telemed.health import FAIL, broker_status


@register(Tags.caches)
def redis_reachable(app_configs, **kwargs):
    # Production only: in development an absent Redis simply means embedded mode.
    if settings.DEBUG or settings.CELERY_EMBEDDED or broker_status() != FAIL:
        return []
    return [
        Error(
            "Redis at REDIS_URL is unreachable: start Redis or correct REDIS_URL.",
            id="telemed.E001",
        )
    ]
