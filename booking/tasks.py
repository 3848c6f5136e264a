from smtplib import SMTPException

from celery import shared_task

from booking import services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=6)
def send_treatment_approval(plan_id: int) -> None:
    services.treatment_approval_notify(plan_id=plan_id)


@shared_task
def send_missed_approvals() -> int:
    """Every few minutes (beat): booking-link e-mails whose message was lost."""
    return services.missed_approvals_notify()
