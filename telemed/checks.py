"""System checks: a production site must reach its Redis (development falls back to embedded mode)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from telemed.health import broker_status
from telemed.preflight import service_problems


@register(Tags.caches)
def redis_reachable(app_configs, **kwargs):
    if settings.DEBUG or settings.CELERY_EMBEDDED:
        return []
    return [Error(problem, id="telemed.E001") for problem in service_problems({"broker": broker_status()})]
