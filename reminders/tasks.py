import logging
import time

from celery import shared_task

from reminders import services

logger = logging.getLogger(__name__)


@shared_task
def dispatch_due_reminders() -> int:
    """Every minute (beat): queue each due reminder for a worker."""
    started = time.monotonic()
    queued = services.reminders_dispatch()
    if queued:  # Celery's own line per task is off (TASK_LOG_LEVEL): say what the pass did
        logger.info("dispatch: %d reminders queued in %.2f s", queued, time.monotonic() - started)
    return queued


@shared_task
def send_reminder(reminder_id: int) -> str:
    """Send one reminder; safe to run twice (the row is claimed first). Retries live on the row."""
    return services.reminder_send(reminder_id=reminder_id)
