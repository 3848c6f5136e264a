import psycopg2
import pytest
import redis
from django.conf import settings

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


def pytest_sessionstart(session):
    """Stop at once, saying what to start, when the real services are not there."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        _require_postgres(database)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis is unreachable at REDIS_URL ({exc}). Start it: {START_REDIS}", returncode=3)


# The tests that also run on SQLite, the embedded default (`make test` runs them on both): the
# booking, slot and reminder services. The rest is PostgreSQL's (row locks, the exclusion
# constraint, full-text search, real workers); on SQLite it is deselected.
SQLITE_SUBSET = (
    "tests/booking/test_slots.py",
    "tests/booking/test_api.py",
    "tests/booking/test_booking.py",
    "tests/booking/test_calendar.py",
    "tests/reminders/test_services.py",
    "tests/reminders/test_preparation.py",
)


def pytest_collection_modifyitems(config, items):
    """On SQLite: the subset only, without the tests marked postgres_only."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    kept = [item for item in items if item.nodeid.startswith(SQLITE_SUBSET) and "postgres_only" not in item.keywords]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


def _require_postgres(database) -> None:
    try:
        psycopg2.connect(
            dbname="postgres",
            user=database["USER"],
            password=database["PASSWORD"],
            host=database["HOST"],
            port=database["PORT"],
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is unreachable at {database['HOST']}:{database['PORT']} ({str(exc).strip().splitlines()[0]}). "
            f"Start it: {START_POSTGRES}",
            returncode=3,
        )


def clear_caches() -> None:
    """Empty the shared cache (the real Redis) and this process's copies of cached pages and
    schedules (a rolled-back test's rows tell no signal they are gone)."""
    from django.core.cache import cache

    from booking.selectors import forget_schedules
    from education.caching import forget_local_pages

    cache.clear()
    forget_local_pages()
    forget_schedules()


@pytest.fixture(autouse=True)
def _clear_caches():
    """Each test starts with empty caches."""
    clear_caches()


@pytest.fixture(autouse=True)
def _fresh_mail_connection():
    """Reminder sending keeps one mail connection per process: never carry one (or its backend)
    from one test into the next."""
    from reminders.services import _close_mail_connection

    _close_mail_connection()
    yield
    _close_mail_connection()


@pytest.fixture
def celery_eager():
    """Tasks queued on commit run at once, in the test's thread (the worker itself is tested elsewhere)."""
    from telemed.celery import app

    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture(autouse=True)
def _shipped_appointment_types(request):
    """The appointment types and staff roles the data migrations ship, present in every database test (transactional
    tests empty the tables they ran on)."""
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        from django.contrib.auth.models import Group, Permission

        from booking.defaults import load_appointment_types
        from booking.models import AppointmentType
        from reminders.models import ReminderRule
        from staff.roles import roles_apply

        request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
        if not AppointmentType.objects.exists():
            load_appointment_types(AppointmentType, ReminderRule)
        if not Group.objects.exists():  # the staff roles (staff/migrations/0001_roles.py)
            roles_apply(Group, Permission)


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's admin_client, signed in with both factors as OTP_REQUIRED asks."""
    from django.test import Client

    from tests.factories import staff_sign_in

    client = Client()
    staff_sign_in(client, admin_user)
    return client


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
