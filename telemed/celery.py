"""The Celery application: settings under the CELERY_ namespace, tasks autodiscovered."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemed.settings")

app = Celery("telemed")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
        close_old_connections()


def ensure_embedded_queue_dirs() -> None:
    """Create the folders of the embedded (filesystem) broker when that is the broker in use.

    Both the web process (which queues tasks) and the worker need them; called from
    TelemedConfig.ready(), which every process runs.
    """
    from django.conf import settings

    if settings.CELERY_EMBEDDED:
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            os.makedirs(folder, exist_ok=True)
