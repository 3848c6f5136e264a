"""The Celery application: settings under the CELERY_ namespace, tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemed.settings")

app = Celery("telemed")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_embedded_queue_dirs() -> None:
    """Create the folders of the embedded (filesystem) broker when that is the broker in use.

    Both the web process (which queues tasks) and the worker need them; called from
    TelemedConfig.ready(), which every process runs.
    """
    from django.conf import settings

    if settings.CELERY_EMBEDDED:
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            os.makedirs(folder, exist_ok=True)
