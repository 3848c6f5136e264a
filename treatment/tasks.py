from smtplib import SMTPException

from celery import shared_task

from treatment.measurements import check_in_safety_alert, missed_check_in_alerts_send


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=6)
def alert_staff_of_check_in_safety_answer(measurement_id: int, answered_again: int = 0) -> None:
    # Sends at most once, whatever the retries. `answered_again`: 1 for a safety answer sent after the kept score.
    check_in_safety_alert(measurement_id=measurement_id, answered_again=bool(answered_again))


@shared_task
def alert_staff_of_missed_check_in_safety_answers() -> int:
    """Every minute (beat): check-in safety answers whose alert message was lost."""
    return missed_check_in_alerts_send()
