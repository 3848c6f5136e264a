from celery import shared_task

from staff.services import PASSWORD_CHANGED, SECOND_FACTOR_RESET, account_change_notify, audit_entries_purge


@shared_task
def purge_expired_audit_entries() -> int:
    return audit_entries_purge()


@shared_task
def tell_password_changed(user_id: int) -> bool:
    return account_change_notify(user_id=user_id, change=PASSWORD_CHANGED)


@shared_task
def tell_second_factor_reset(user_id: int) -> bool:
    return account_change_notify(user_id=user_id, change=SECOND_FACTOR_RESET)
