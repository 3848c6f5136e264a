"""Every write of the reminders: keep a visit's rows in step with it, hand due ones to workers, send one.

A row's life: pending (waiting for due_at) -> queued (the dispatcher has sent its id to a
worker) -> sending (one worker has claimed it) -> sent; or back to pending with a later
due_at after a failed attempt, failed after the last one, cancelled when no longer needed.
queued and sending rows hold a lease: once it runs out (the message was lost, the worker
died) the dispatcher queues the row again. A sending lease outlasts the task's hard time
limit, so the worker that held it is certainly gone: only an e-mail the SMTP server accepted
just before its worker was killed can be sent twice.
"""

import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused, SMTPResponseException

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Appointment, AppointmentType
from reminders import timing
from reminders.models import Reminder, ReminderKind, ReminderStatus
from staff.audit import record_change
from telemed.queueing import enqueue

logger = logging.getLogger(__name__)

OPEN_STATUSES = [Reminder.Status.PENDING, Reminder.Status.QUEUED, Reminder.Status.SENDING]
MAX_ATTEMPTS = 5


def _claim_lease() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + settings.REMINDER_CLAIM_MARGIN


def reminders_sync(*, appointment: Appointment, now: datetime) -> None:
    """Create, recompute or cancel the reminders of one visit. Run inside the transaction that
    changed the visit, so the two never disagree."""
    rows = {row.kind: row for row in Reminder.objects.select_for_update().filter(appointment=appointment)}
    confirmation = rows.get(ReminderKind.CONFIRMATION)  # before the loop below takes it out of `rows`
    wanted: dict[str, datetime] = {}
    if timing.wanted_for(kind=ReminderKind.CANCELLATION, status=appointment.status):
        if now < appointment.start:
            wanted[ReminderKind.CANCELLATION] = now
    else:
        for rule in appointment.appointment_type.reminder_rules.all():
            if not timing.wanted_for(kind=rule.kind, status=appointment.status):
                continue
            when = timing.Rule(rule.kind, rule.offset_minutes, rule.at_local_time)
            due = timing.due_at(rule=when, start=appointment.start, time_zone=appointment.time_zone, now=now)
            if due is not None:
                wanted[when.kind] = due
    # A cancellation notice already sent for a visit that is on again: tell the patient, again.
    cancelled_notice = rows.get(ReminderKind.CANCELLATION)
    reinstated = bool(
        ReminderKind.CANCELLATION not in wanted
        and cancelled_notice is not None
        and cancelled_notice.status == Reminder.Status.SENT
        and appointment.status == Appointment.Status.CONFIRMED
    )
    if reinstated and cancelled_notice is not None:
        cancelled_notice.status, cancelled_notice.last_error = Reminder.Status.CANCELLED, _("The visit is on again.")
        cancelled_notice.save(update_fields=["status", "last_error", "updated_at"])
    send_now: dict[str, int] = {}
    for kind, due in wanted.items():
        row = rows.pop(kind, None)
        if row is None:
            row = Reminder.objects.create(appointment=appointment, kind=kind, due_at=due, for_start=appointment.start)
        elif (
            row.for_start != appointment.start  # moved: everything again, for the new time
            or row.status == Reminder.Status.CANCELLED  # reinstated after a cancel, or a rule back
            or (kind == ReminderKind.CONFIRMATION and reinstated)  # "it is back on"
        ):
            _reopen(row, due=due, for_start=appointment.start)
        elif row.status == Reminder.Status.PENDING and row.due_at != due:  # a rule was edited
            row.due_at = due
            row.save(update_fields=["due_at", "updated_at"])
        else:
            continue
        if due <= now:
            send_now[kind] = row.pk
    for row in rows.values():  # the visit was cancelled (or reinstated), or a rule removed
        if row.status in OPEN_STATUSES:
            row.status, row.claim, row.lease_until = Reminder.Status.CANCELLED, "", None
            row.save(update_fields=["status", "claim", "lease_until", "updated_at"])
    # The confirmation is the first e-mail of a visit: while it is owed (new, reopened, or still
    # being tried), the others due at once wait for it and follow it when it is sent (_send_claimed).
    if ReminderKind.CONFIRMATION in wanted and (confirmation is None or confirmation.status in OPEN_STATUSES):
        send_now = {kind: pk for kind, pk in send_now.items() if kind == ReminderKind.CONFIRMATION}
    if send_now:
        ids = list(send_now.values())
        transaction.on_commit(lambda: _enqueue(ids), robust=True)


def _reopen(row: Reminder, *, due: datetime, for_start: datetime) -> None:
    row.due_at, row.for_start, row.status = due, for_start, Reminder.Status.PENDING
    row.claim, row.lease_until, row.attempts, row.sent_at, row.last_error = "", None, 0, None, ""
    row.save()


def reminders_dispatch(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """One pass: queue every due reminder (and every lapsed lease) for a worker. Returns how many.

    Rows are taken with SELECT … FOR UPDATE SKIP LOCKED, so dispatchers running at once share
    the work instead of queueing a row twice.
    """
    now = now or timezone.now()
    due = Q(status=Reminder.Status.PENDING, due_at__lte=now) | Q(
        status__in=[Reminder.Status.QUEUED, Reminder.Status.SENDING], lease_until__lt=now
    )
    # The confirmation is the first e-mail of a visit: no other of its reminders is queued while
    # it is owed. One that failed or is no longer needed holds nothing back.
    # django-stubs types Q | Exists as Combinable; Q._combine takes any conditional expression and returns a Q.
    due &= Q(kind=ReminderKind.CONFIRMATION) | ~Exists(_owed_confirmation(OuterRef("appointment")))  # type: ignore[assignment]
    # A row whose worker died during each of its attempts is not tried again: staff see it.
    with transaction.atomic():
        abandoned = list(
            Reminder.objects.select_for_update(skip_locked=True).filter(
                status=Reminder.Status.SENDING, lease_until__lt=now, attempts__gte=MAX_ATTEMPTS
            )
        )
        error = _("The worker sending it stopped during each of its attempts.")
        for row in abandoned:
            row.status, row.claim, row.lease_until, row.last_error = Reminder.Status.FAILED, "", None, error
            row.save(update_fields=["status", "claim", "lease_until", "last_error", "updated_at"])
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(due)
                .order_by("due_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            Reminder.objects.filter(pk__in=ids).update(
                status=Reminder.Status.QUEUED,
                claim="",
                lease_until=now + settings.REMINDER_QUEUE_LEASE,
                updated_at=now,
            )
            # The default binds this batch (python/mypy#15459: mypy cannot infer such a lambda).
            transaction.on_commit(lambda ids=ids: _enqueue(ids), robust=True)  # type: ignore[misc]
        total += len(ids)


def _enqueue(ids: list[int]) -> None:
    from reminders.tasks import send_reminder

    # One Redis pipeline per batch (telemed/queueing.py). If it fails, nothing is lost: rows the
    # dispatcher queued come back when their lease lapses; rows sent at once after a booking or a
    # resend are still pending and due, and the next pass takes them (a claim keeps any of them
    # from going twice).
    enqueue(send_reminder, [(reminder_id,) for reminder_id in ids])


def reminder_send(*, reminder_id: int) -> str:
    """Send one reminder if it is due and nobody else holds it. Returns what happened (for tests/logs)."""
    now, claim = timezone.now(), secrets.token_hex(16)
    # The claim is committed on its own, before anything is sent: from then on no other worker
    # takes the row until its lease lapses, and the attempt is counted even if this one dies.
    free = Q(status__in=[Reminder.Status.PENDING, Reminder.Status.QUEUED]) | Q(
        status=Reminder.Status.SENDING, lease_until__lt=now, attempts__lt=MAX_ATTEMPTS
    )
    claimed = (
        Reminder.objects.filter(free, pk=reminder_id, due_at__lte=now)
        .order_by()
        .update(
            status=Reminder.Status.SENDING,
            claim=claim,
            lease_until=now + _claim_lease(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return "not mine"
    # The row stays locked while it is checked and sent. A move or a cancel of its visit locks the
    # visit's reminders in its own transaction: it waits for this send (at most EMAIL_TIMEOUT) and
    # then reopens the row for the new time, or it went first and reset the claim, and this finds
    # nothing.
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("appointment__patient", "appointment__appointment_type", "appointment__clinician")
            .filter(pk=reminder_id, claim=claim, status=Reminder.Status.SENDING)
            .first()
        )
        if reminder is None:  # the visit was moved or cancelled between the claim and the lock
            return "not mine"
        return _send_claimed(reminder, claim=claim, now=now)


def _send_claimed(reminder: Reminder, *, claim: str, now: datetime) -> str:
    """Check, send and record one claimed, locked reminder, inside the send's transaction."""
    from reminders.emails import reminder_email

    appointment = reminder.appointment

    def outcome(status: ReminderStatus, **fields) -> None:
        # An UPDATE under the claim, not save(): the audit entry is written here.
        record_change(reminder, {"status": [reminder.status, status.value], **_audited(fields)})
        written = {"sent_at": None, "last_error": "", **fields}  # a retry clears the last try's
        Reminder.objects.filter(pk=reminder.pk, claim=claim).update(
            status=status, lease_until=None, updated_at=timezone.now(), **written
        )
        if reminder.kind == ReminderKind.CONFIRMATION and status != Reminder.Status.PENDING:
            # The confirmation no longer holds the visit's other reminders back: those already
            # due go now rather than at the next dispatch pass, up to a minute later.
            transaction.on_commit(lambda: _enqueue_held_back(appointment.pk), robust=True)

    if (
        reminder.for_start != appointment.start
        or not timing.wanted_for(kind=reminder.kind, status=appointment.status)
        or not timing.still_useful(kind=reminder.kind, start=appointment.start, due=reminder.due_at, now=now)
    ):
        outcome(Reminder.Status.CANCELLED, last_error=_("No longer needed when due."))
        return "not needed"
    if reminder.kind != ReminderKind.CONFIRMATION and _owed_confirmation(appointment.pk).exists():
        # Queued before its visit's confirmation was (a move reopened both, a staff resend):
        # back to waiting, its due time unchanged, and the attempt its claim counted given back,
        # since nothing was tried. The dispatcher leaves it until the confirmation is done,
        # which then sends it (_enqueue_held_back).
        Reminder.objects.filter(pk=reminder.pk, claim=claim).update(
            status=Reminder.Status.PENDING,
            claim="",
            lease_until=None,
            attempts=reminder.attempts - 1,
            updated_at=timezone.now(),
        )
        return "waits for the confirmation"
    try:
        _deliver(reminder_email(reminder))
    except Exception as exc:  # noqa: BLE001 - any failure is one attempt; the row says which
        _close_mail_connection()
        logger.warning("reminder %s: attempt %s failed (%s)", reminder.pk, reminder.attempts, type(exc).__name__)
        if reminder.attempts >= MAX_ATTEMPTS:
            outcome(Reminder.Status.FAILED, last_error=_describe(exc))
            return "failed"
        outcome(
            Reminder.Status.PENDING,
            last_error=_describe(exc),
            due_at=timezone.now() + timing.retry_delay(reminder.attempts),
        )
        return "retry"
    outcome(Reminder.Status.SENT, sent_at=timezone.now())
    return "sent"


def _audited(fields: dict) -> dict:
    """A send's outcome for the audit trail: {field: [before, after]}."""
    return {name: [None, str(value)] for name, value in fields.items()}


def _owed_confirmation(appointment):
    """The visit's confirmation while it is still owed (`appointment`: an id or an OuterRef)."""
    return Reminder.objects.filter(appointment=appointment, kind=ReminderKind.CONFIRMATION, status__in=OPEN_STATUSES)


def _enqueue_held_back(appointment_id: int) -> None:
    """Send the visit's reminders that were due while its confirmation was owed. A dispatch pass
    may queue them too: the claim keeps each from going twice."""
    held_back = Reminder.objects.filter(
        appointment_id=appointment_id, status=Reminder.Status.PENDING, due_at__lte=timezone.now()
    ).exclude(kind=ReminderKind.CONFIRMATION)
    ids = list(held_back.values_list("pk", flat=True))
    if ids:
        _enqueue(ids)


def _describe(exc: Exception) -> str:
    """What went wrong, for staff: the SMTP code rather than the server's text, which often
    repeats the patient's address."""
    if isinstance(exc, SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        return f"SMTPRecipientsRefused: {', '.join(map(str, codes))}"
    if isinstance(exc, SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code}"
    return f"{type(exc).__name__}: {exc}"[:500]


def reminders_resend(*, reminder_ids, now: datetime | None = None) -> int:
    """Staff asked: send these again now, those that still make sense (not a preparation
    reminder for a visit that has begun, nor one of a cancelled visit). Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = [
            row
            for row in Reminder.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .filter(pk__in=reminder_ids)
            .exclude(status=Reminder.Status.SENDING, lease_until__gte=now)
            if timing.wanted_for(kind=row.kind, status=row.appointment.status)
            and timing.still_useful(kind=row.kind, start=row.appointment.start, due=now, now=now)
        ]
        for row in rows:
            _reopen(row, due=now, for_start=row.for_start)
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


# One SMTP connection per worker process (per thread, under a threads pool), kept open between
# reminders: a new connection for each message would cost a TCP and TLS handshake every time.
_mail = threading.local()  # .connection, and .used_at: time.monotonic() of its last message
# A server drops connections idle for minutes (Postfix after 300 s): one left idle longer than
# this is checked with NOOP before use. A busy one is not: a NOOP per message cost a round trip
# each, and a connection dropped all the same fails one attempt, which is retried (MAX_ATTEMPTS).
MAIL_IDLE_CHECK_AFTER = 10.0


def _deliver(message) -> None:
    connection = getattr(_mail, "connection", None)
    if connection is None:
        connection = _mail.connection = mail.get_connection()
        connection.open()
    elif (
        getattr(connection, "connection", None) is not None and time.monotonic() - _mail.used_at > MAIL_IDLE_CHECK_AFTER
    ):
        try:
            connection.connection.noop()
        except Exception:  # noqa: BLE001
            _close_mail_connection()
            return _deliver(message)
    message.connection = connection
    message.send()
    _mail.used_at = time.monotonic()


def _close_mail_connection() -> None:
    connection, _mail.connection = getattr(_mail, "connection", None), None
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            logger.debug("closing the mail connection failed")


def reminder_rules_apply(*, appointment_type: AppointmentType, now: datetime | None = None) -> int:
    """After staff edit a type's reminder rules: bring the reminders of its visits still ahead
    in line with them. Returns how many visits were looked at."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        visits = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("appointment_type")
            .prefetch_related("appointment_type__reminder_rules")
            .filter(
                appointment_type=appointment_type, status=Appointment.Status.CONFIRMED, end__gt=now - timedelta(days=2)
            )
        )
        for appointment in visits:
            reminders_sync(appointment=appointment, now=now)
            count += 1
    return count
