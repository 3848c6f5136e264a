"""Writes for staff access: second-factor devices and backup codes, a manager's reset of a
colleague's device, and the audit log's retention."""

from base64 import b32encode
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.audit import record_change

BACKUP_CODES = 10


def totp_device_pending(*, user) -> TOTPDevice:
    """The authenticator app being set up: the same secret until it is confirmed (a reload
    does not invalidate what the person has just scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def device_for_code(*, user, code: str) -> TOTPDevice | StaticDevice:
    """Which of the person's devices a code is for: six digits are the app's, anything else a
    backup code. (Trying both, as django_otp.match_token does, would count every backup code
    as a wrong app code, and slow the app's next code down.)"""
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if totp is not None and code.isdigit() and len(code) == totp.digits:
        return totp
    return StaticDevice.objects.filter(user=user, confirmed=True).first() or totp  # one exists: user_has_device


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for an app without a camera."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice) -> list[str]:
    """The first code matched: the device counts from now on. Returns new backup codes."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_change(device.user, {"second factor": ["none", "authenticator app set up"]})
    return backup_codes_issue(user=device.user)


@transaction.atomic
def backup_codes_issue(*, user) -> list[str]:
    """BACKUP_CODES single-use codes, replacing any earlier ones. Shown once, stored as given
    (django-otp's static tokens)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_reset(*, users) -> int:
    """A manager's reset of colleagues' second factors (a lost phone): their devices and backup
    codes are removed, their open sessions end (staff/sessions.py), and they set up a new
    authenticator app at their next sign-in. Returns how many had one."""
    count = 0
    for user in users:
        removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        if removed:
            record_change(user, {"second factor": ["set", "reset by a manager"]})
            account_change_queue(user_id=user.pk, change=SECOND_FACTOR_RESET)
            count += 1
    return count


PASSWORD_CHANGED, SECOND_FACTOR_RESET = "password", "second factor"


def account_change_queue(*, user_id: int, change: str) -> None:
    """After the change commits, tell the account's owner (staff/tasks.py)."""
    from staff import tasks
    from telemed.queueing import enqueue_on_commit

    task = tasks.tell_password_changed if change == PASSWORD_CHANGED else tasks.tell_second_factor_reset
    enqueue_on_commit(task, user_id)


def account_change_notify(*, user_id: int, change: str) -> bool:
    """E-mail a staff member that their password was changed or their second factor reset, so a
    change they did not make (someone else's hands on their account) is noticed at once."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    what = {
        PASSWORD_CHANGED: _("The password of your staff account was changed."),
        SECOND_FACTOR_RESET: _(
            "The two-step sign-in of your staff account was reset: you will set up your authenticator "
            "app again at your next sign-in."
        ),
    }[change]
    body = "\n\n".join(
        [
            what,
            _("If you did not expect this, tell the clinic manager at once: someone else may be using your account."),
            settings.CLINIC_NAME,
        ]
    )
    send_mail(_("Your staff account was changed"), body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True


def audit_entries_purge(*, now: datetime | None = None) -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS, the only way any entry goes."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _by_model = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
