"""The Celery application: settings under the CELERY_ namespace, tasks autodiscovered."""

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemed.settings")

app = Celery("telemed")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(sender, **kwargs) -> None:
    """Around each task, what Django does around each request: a connection is kept for
    CONN_MAX_AGE and checked before reuse (CONN_HEALTH_CHECKS), dropped if broken or too old.
    Celery's own Django fixup would close it after every task (CELERY_DB_REUSE_MAX in settings):
    a new PostgreSQL connection per reminder cost more than sending the reminder. An eager task
    runs in its caller's connection, perhaps inside its transaction: left alone, as the fixup does."""
    from django.db import close_old_connections

    if not getattr(sender.request, "is_eager", False):
        end_stray_transactions()
        close_old_connections()


def end_stray_transactions() -> None:
    """A connection Django believes idle in autocommit, but inside a transaction on the server (the
    reminder send opens one by hand: booking/reminder_sql.py), is closed, and so rolled back: a row
    lock left behind would hold up the visit's moves and cancels, and later writes would never be
    committed. Reading the state costs no round trip."""
    from django.db import connections
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if conn.vendor != "postgresql" or raw is None or conn.in_atomic_block or not conn.get_autocommit():
            continue
        if raw.get_transaction_status() != TRANSACTION_STATUS_IDLE:
            logger.error("a task left a database transaction open: connection closed")
            conn.close()


@signals.worker_init.connect
def freeze_configuration(sender=None, **kwargs) -> None:
    """In a worker, every Celery setting resolved once, before the pool starts.

    Celery looks a setting up through its new name, its old name and the CELERY_ prefix, in its own
    changes, then Django's settings, then its defaults, each miss an exception: about 10 us a
    lookup, and queueing or running a task looks up a dozen (queueing 10,000 reminders: 0.25 ->
    0.15 ms each; bench/README.md). A worker's settings do not change while it runs, so each is put
    where the first place looked finds it. Processes that are not workers (the site, tests) keep
    the lookups, and with them `app.conf.update()` taking effect at any time."""
    from celery.app.defaults import DEFAULTS

    conf = app.conf
    conf.update({name: conf[name] for name in DEFAULTS})


def ensure_embedded_queue_dirs() -> None:
    """Create the folders of the embedded (filesystem) broker when that is the broker in use.

    Both the web process (which queues tasks) and the worker need them; called from
    TelemedConfig.ready(), which every process runs.
    """
    from django.conf import settings

    if settings.CELERY_EMBEDDED:
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            os.makedirs(folder, exist_ok=True)
