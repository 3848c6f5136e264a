from celery import shared_task

from staff.services import audit_entries_purge


@shared_task
def purge_expired_audit_entries() -> int:
    return audit_entries_purge()
