from smtplib import SMTPException

from celery import shared_task

from portal import services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=3)
def send_sign_in_link(link_id: int) -> None:
    services.sign_in_link_send(link_id=link_id)


@shared_task
def send_missed_sign_in_links() -> int:
    """Every minute (beat): sign-in e-mails whose message was lost, while their link still works."""
    return services.missed_sign_in_links_send()
