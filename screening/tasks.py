from smtplib import SMTPException

from celery import shared_task

from screening.services import (
    missed_urgent_alerts_send,
    overdue_urgent_reviews_alert,
    unfinished_screenings_purge,
    urgent_screening_alert,
)


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=6)
def alert_staff_of_urgent_screening(screening_id: int) -> None:
    urgent_screening_alert(screening_id=screening_id)


@shared_task
def purge_unfinished_screenings() -> None:
    unfinished_screenings_purge()


@shared_task
def alert_staff_of_missed_urgent_screenings() -> int:
    """Every minute (beat): urgent screenings whose alert message was lost."""
    return missed_urgent_alerts_send()


@shared_task
def alert_overdue_urgent_reviews() -> int:
    """Every 5 minutes (beat): urgent screenings unreviewed after URGENT_REVIEW_HOURS, once each."""
    return overdue_urgent_reviews_alert()
