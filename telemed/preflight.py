"""Start-up checks that explain a wrong production configuration in one line.

Used by gunicorn (gunicorn.conf.py) before it forks workers, and by the system check
framework for manage.py, so an operator reads what to fix instead of a traceback.
"""

import os

from telemed.health import FAIL

DATABASE_UNREACHABLE = "The database named by DATABASE_URL is unreachable: start it or correct DATABASE_URL."
REDIS_UNREACHABLE = "Redis at REDIS_URL is unreachable: start Redis or correct REDIS_URL."


def service_problems(checks: dict[str, str]) -> list[str]:
    messages = {"database": DATABASE_UNREACHABLE, "broker": REDIS_UNREACHABLE}
    return [messages[name] for name, status in checks.items() if status == FAIL]


def problems_at_start() -> list[str]:
    """Set Django up and report what keeps the site from serving, one line per problem."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemed.settings")
    try:
        django.setup()
    except ImproperlyConfigured as exc:
        return [f"Configuration error: {exc}"]

    from django.db import connections

    from telemed.health import service_checks

    try:
        return service_problems(service_checks())
    finally:
        # gunicorn forks its workers from this process: a connection left open here would be
        # shared by all of them, and their queries' results would get mixed up.
        connections.close_all()
