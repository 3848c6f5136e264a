"""Reachability of the services the site depends on, for /healthz and start-up checks.

Each check answers with a short word and never raises; details go to the log without
connection strings (they may carry passwords).
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError

logger = logging.getLogger(__name__)

OK, FAIL, EMBEDDED = "ok", "fail", "embedded"


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unreachable (%s)", type(exc).__name__)
        return FAIL
    return OK


def broker_status(*, timeout: float = 2.0) -> str:
    """Answer "embedded" when no Redis is configured (the filesystem broker of development)."""
    if settings.CELERY_EMBEDDED:
        return EMBEDDED
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        logger.warning("health: broker unreachable (%s)", type(exc).__name__)
        return FAIL
    finally:
        client.close()
    return OK


def service_checks() -> dict[str, str]:
    return {"database": database_status(), "broker": broker_status()}


def is_healthy(checks: dict[str, str]) -> bool:
    return all(status in (OK, EMBEDDED) for status in checks.values())
