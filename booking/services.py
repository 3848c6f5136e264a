"""Every write of the booking app: book, reschedule, cancel. Times are aware; patient data never logged."""

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from smtplib import SMTPRecipientsRefused, SMTPResponseException
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from booking import reminder_sql, reminders, selectors, slots
from booking.models import Appointment, AppointmentType, Patient, Reminder, ReminderKind
from screening.models import Outcome, Screening
from staff.audit import record_change
from telemed.owed import lost_since
from telemed.people import person_name
from telemed.queueing import enqueue

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


class BookingError(Exception):
    """Something the patient can act on; the message is written for them."""


class SlotTaken(BookingError):
    def __init__(self, nearby: list[selectors.OpenSlot]):
        super().__init__(_("Sorry, that time was just taken. Here are the nearest free times."))
        self.nearby = nearby


class ChangeTooLate(BookingError):
    pass


@dataclass(frozen=True)
class PatientDetails:
    full_name: str
    email: str
    phone: str
    date_of_birth: date | None = None


def booking_refusal(
    *, appointment_type: AppointmentType, screening: Screening | None, patient: Patient | None
) -> "StrOrPromise":
    """Why this person may not book this type online (empty when they may)."""
    if not appointment_type.active:
        return _("This kind of appointment cannot be booked online. Please call us.")
    if appointment_type.needs_approval:
        if patient is None or patient.approved_for_treatment_at is None:
            return _("Treatment sessions are booked after a clinician has approved your treatment plan.")
        return ""
    if appointment_type.requires_screening:
        if screening is None or screening.submitted_at is None:
            return _("Please complete the screening first; it leads you to booking.")
        if screening.clinical_outcome == Outcome.NOT_SUITABLE:
            return _("From your screening we cannot offer a consultation online. Please call us to talk it through.")
        if open_consultation(screening):
            return ONE_CONSULTATION
        return ""
    if patient is None:
        return _("Follow-up visits are for patients who have had a consultation with us.")
    return ""


ONE_CONSULTATION = _lazy(
    "You already have a consultation booked from this screening. To change its time, use the link "
    "in your confirmation e-mail; to talk to us, please call."
)


def open_consultation(screening: Screening, *, now: datetime | None = None) -> bool:
    """Whether this screening's consultation is booked and still ahead: one at a time, so a
    screening link cannot fill the calendar."""
    return (
        Appointment.objects.filter(
            screening=screening,
            status=Appointment.Status.CONFIRMED,
            appointment_type__requires_screening=True,
            end__gt=now or timezone.now(),
        )
        .only("pk")
        .exists()
    )


def free_clinician(
    *, appointment_type, clinician_id: int | None, start: datetime, now: datetime, ignore=None
) -> int | None:
    """The clinician who will see the patient at `start`: the one asked for if they are free then,
    or, for "any clinician" (None), whoever is free then with the fewest visits that day. None
    when nobody asked for is free."""
    free = [
        slot.clinician_id
        for slot in selectors.open_slots(
            appointment_type=appointment_type,
            window_start=start,
            window_end=start + timedelta(seconds=1),
            now=now,
            clinician_id=clinician_id,
            ignore_appointment_id=ignore,
        )
        if slot.start == start
    ]
    if len(free) <= 1:
        return free[0] if free else None
    zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    day_start = datetime.combine(timezone.localdate(start, zone), datetime.min.time(), tzinfo=zone)
    busy = dict(
        Appointment.objects.active()
        .filter(clinician_id__in=free, start__gte=day_start, start__lt=day_start + timedelta(days=1))
        .values_list("clinician_id")
        .annotate(visits=Count("pk"))
    )
    return min(free, key=lambda clinician: busy.get(clinician, 0))  # ties: the first, in the slots' order


def visit_times(appointment_type: AppointmentType, start: datetime) -> tuple[datetime, datetime, datetime]:
    """The visit's end, and the clinician's time it holds (with buffers and recovery)."""
    interval = slots.padded(start, selectors.slot_rules(appointment_type))
    return start + appointment_type.duration, interval.start, interval.end


def patient_for_booking(*, details: PatientDetails, proven: Patient | None = None) -> Patient:
    """The patient a booking is for. Anonymous input never rewrites a record (README, "Patients'
    records"):
    - `proven`: this browser holds that patient's own booking link (from an e-mail to them, or a
      visit's page); with the same e-mail it is theirs, and their typed name and phone update it;
    - a record with this e-mail, in any letter case, and the same person's details: that record,
      unchanged;
    - a record with this e-mail and other details: a record of its own, flagged for staff as
      differing from the first (one per set of details, not one per booking);
    - no record with this e-mail: a new one.
    """
    email = details.email.strip().lower()
    if proven is not None and proven.anonymised_at is None and proven.email.lower() == email:
        _contact_update(proven, details)
        return proven
    record = _records(email).filter(details_differ_from=None).first()
    if record is None:
        try:
            with transaction.atomic():  # the same new address booked twice at once: one record
                return Patient.objects.create(**_fields(details), email=email)
        except IntegrityError:
            record = _records(email).get(details_differ_from=None)
    same = [candidate for candidate in [record, *record.differing_records.all()] if same_person(candidate, details)]
    if same:
        return same[0]
    logger.info("booking: details differ from the record with that e-mail (patient %s)", record.pk)
    return Patient.objects.create(**_fields(details), email=email, details_differ_from=record)


def _records(email: str):
    return Patient.objects.filter(email__iexact=email, anonymised_at=None)


def _fields(details: PatientDetails) -> dict:
    return {"full_name": details.full_name, "phone": details.phone, "date_of_birth": details.date_of_birth}


def same_person(patient: Patient, details: PatientDetails) -> bool:
    """The details typed are this record's, written perhaps another way: the name in another
    case or spacing, the phone with other punctuation, no date of birth or the same one."""
    return (
        _name_key(patient.full_name) == _name_key(details.full_name)
        and _phone_key(patient.phone) == _phone_key(details.phone)
        and (details.date_of_birth is None or patient.date_of_birth in (None, details.date_of_birth))
    )


def _name_key(name: str) -> str:
    return person_name(name).casefold()


def _phone_key(phone: str) -> str:
    digits = "".join(char for char in phone if char.isascii() and char.isdigit())
    return digits[-10:]  # a US number with or without its leading 1


def _contact_update(patient: Patient, details: PatientDetails) -> None:
    """The patient's own corrections: name and phone as typed; a date of birth only where none was known."""
    changed = [
        name
        for name, value in (("full_name", details.full_name), ("phone", details.phone))
        if getattr(patient, name) != value
    ]
    for name in changed:
        setattr(patient, name, getattr(details, name))
    if details.date_of_birth and patient.date_of_birth is None:
        patient.date_of_birth = details.date_of_birth
        changed.append("date_of_birth")
    if changed:
        patient.save(update_fields=changed)


def appointment_book(
    *,
    appointment_type: AppointmentType,
    clinician_id: int | None,
    start: datetime,
    details: PatientDetails,
    time_zone: str,
    request_key: str,
    screening: Screening | None = None,
    proven_patient: Patient | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book one visit, with `clinician_id` or (None) any clinician free then, for the patient
    `patient_for_booking` finds (`proven_patient`: whose booking link this browser holds). The
    same request_key twice (a double click, a resubmit) returns the first booking."""
    now = now or timezone.now()
    existing = Appointment.objects.filter(request_key=request_key).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            if screening is not None and appointment_type.requires_screening:
                # Two confirms from one screening at once: the second waits here, then is refused.
                Screening.objects.select_for_update().filter(pk=screening.pk).first()
                if open_consultation(screening, now=now):
                    raise BookingError(ONE_CONSULTATION)
            clinician_id = free_clinician(
                appointment_type=appointment_type, clinician_id=clinician_id, start=start, now=now
            )
            if clinician_id is None:
                raise _taken(appointment_type, start, now)
            end, blocked_start, blocked_end = visit_times(appointment_type, start)
            appointment = Appointment.objects.create(
                patient=patient_for_booking(details=details, proven=proven_patient),
                clinician_id=clinician_id,
                appointment_type=appointment_type,
                start=start,
                end=end,
                blocked_start=blocked_start,
                blocked_end=blocked_end,
                time_zone=time_zone,
                request_key=request_key,
                screening=screening,
            )
            reminders_sync(appointment=appointment, now=now)
            return appointment
    except IntegrityError:
        # Either the same request won a race with itself, or another patient took the time.
        existing = Appointment.objects.filter(request_key=request_key).first()
        if existing:
            return existing
        raise _taken(appointment_type, start, now) from None


def _taken(appointment_type: AppointmentType, start: datetime, now: datetime) -> SlotTaken:
    """The error for a time that is no longer free, with the nearest free ones."""
    logger.info("booking: slot taken (type %s)", appointment_type.pk)
    return SlotTaken(selectors.nearby_slots(appointment_type=appointment_type, around=start, now=now))


def change_deadline(appointment: Appointment) -> datetime:
    return appointment.start - timedelta(hours=appointment.appointment_type.cancellation_cutoff_hours)


def can_change(appointment: Appointment, *, now: datetime | None = None) -> bool:
    return appointment.status == Appointment.Status.CONFIRMED and (now or timezone.now()) < change_deadline(appointment)


def appointment_reschedule(
    *, appointment: Appointment, clinician_id: int | None, start: datetime, now: datetime | None = None
) -> Appointment:
    """Move a visit in one atomic swap: the old time is free and the new one held, or nothing changes.
    `clinician_id` None: any clinician free then."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
            if not can_change(locked, now=now):
                raise ChangeTooLate(_("Online changes are closed for this appointment. Please call us."))
            clinician_id = free_clinician(
                appointment_type=locked.appointment_type,
                clinician_id=clinician_id,
                start=start,
                now=now,
                ignore=locked.pk,
            )
            if clinician_id is None:
                raise _taken(locked.appointment_type, start, now)
            locked.end, locked.blocked_start, locked.blocked_end = visit_times(locked.appointment_type, start)
            locked.start, locked.clinician_id = start, clinician_id
            locked.sequence += 1
            locked.save(
                update_fields=["start", "end", "blocked_start", "blocked_end", "clinician", "sequence", "updated_at"]
            )
            reminders_sync(appointment=locked, now=now)
            return locked
    except IntegrityError:  # the exclusion constraint: another booking won the race
        raise _taken(appointment.appointment_type, start, now) from None


def appointment_cancel(
    *, appointment: Appointment, reason: str = "", by_staff: bool = False, now: datetime | None = None
) -> Appointment:
    """Cancel a visit; the patient is e-mailed (a cancellation notice) and its reminders stop.
    Online, the patient may until the type's cut-off; staff (`by_staff`) at any time."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
        if locked.status != Appointment.Status.CONFIRMED:  # cancelled already, or history (completed, no-show)
            return locked
        if not by_staff and not can_change(locked, now=now):
            raise ChangeTooLate(_("Online changes are closed for this appointment. Please call us."))
        locked.status = Appointment.Status.CANCELLED
        locked.cancel_reason = reason.strip()[:500]
        locked.cancelled_at = now
        locked.sequence += 1
        locked.save(update_fields=["status", "cancel_reason", "cancelled_at", "sequence", "updated_at"])
        reminders_sync(appointment=locked, now=now)
        return locked


def patients_approve_for_treatment(*, patients, user, now: datetime | None = None) -> int:
    """Approve for treatment sessions; each newly approved patient is e-mailed a booking link."""
    now = now or timezone.now()
    with transaction.atomic():
        newly = list(patients.filter(approved_for_treatment_at__isnull=True).select_for_update())
        for patient in newly:  # one save each: the audit trail records every approval, and by whom
            patient.approved_for_treatment_at, patient.approved_by = now, user
            patient.save(update_fields=["approved_for_treatment_at", "approved_by"])
            # The default binds this patient (python/mypy#15459: mypy cannot infer such a lambda).
            transaction.on_commit(lambda patient_id=patient.pk: _send_approval(patient_id))  # type: ignore[misc]
    return len(newly)


def _send_approval(patient_id: int) -> None:
    """Broker down: the approval stands; the booking link goes with the next sweep (send_missed_approvals)."""
    from booking.tasks import send_treatment_approval

    enqueue(send_treatment_approval, [(patient_id,)])


def treatment_approval_notify(*, patient_id: int) -> bool:
    """E-mail an approved patient their booking link, once: the row records that it went."""
    from booking.emails import approval_email

    with transaction.atomic():
        patient = (
            Patient.objects.select_for_update()
            .filter(pk=patient_id, approved_for_treatment_at__isnull=False, approval_emailed_at__isnull=True)
            .first()
        )
        if patient is None:
            return False
        approval_email(patient).send()
        patient.approval_emailed_at = timezone.now()
        patient.save(update_fields=["approval_emailed_at"])
    return True


def missed_approvals_notify(*, now: datetime | None = None) -> int:
    """Send the booking-link e-mails whose message was lost (telemed/owed.py). Returns how many."""
    missed = Patient.objects.filter(
        approval_emailed_at__isnull=True, **lost_since("approved_for_treatment_at", now or timezone.now())
    ).values_list("pk", flat=True)
    return sum(treatment_approval_notify(patient_id=patient_id) for patient_id in missed)


def appointment_staff_save(
    *, appointment: Appointment, changed: frozenset[str] | None = None, now: datetime | None = None
) -> Appointment:
    """Save a visit as staff edited it in the admin (`changed`: the fields they changed; None for
    a new visit). A new time, type or clinician holds new time; a cancel is dated; the reminders
    follow in the same transaction.

    Staff may place a visit outside open slots (they know the clinician's day); the database's
    exclusion constraint still refuses an overlap.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if changed is None or changed & {"start", "appointment_type", "clinician"}:
            appointment.end, appointment.blocked_start, appointment.blocked_end = visit_times(
                appointment.appointment_type, appointment.start
            )
        if changed and changed & {"start", "appointment_type", "status"}:
            appointment.sequence += 1  # the patient's calendar event changes
        if appointment.status == Appointment.Status.CANCELLED and appointment.cancelled_at is None:
            appointment.cancelled_at = now
        elif appointment.status != Appointment.Status.CANCELLED:
            appointment.cancelled_at = None
        appointment.save()
        reminders_sync(appointment=appointment, now=now)
    return appointment


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


def ride_home_confirm(*, appointment: Appointment, now: datetime | None = None) -> bool:
    """Record that the patient has arranged their ride home; False when there is nothing to confirm."""
    if appointment.status != Appointment.Status.CONFIRMED or not appointment.appointment_type.ride_home_required:
        return False
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.ride_confirmed_at is None:
            locked.ride_confirmed_at = now or timezone.now()
            locked.save(update_fields=["ride_confirmed_at", "updated_at"])
    return True


# --- Reminders (SPEC, Reminders) -------------------------------------------------------------
#
# A row's life: pending (waiting for due_at) -> queued (the dispatcher has sent its id to a
# worker) -> sending (one worker has claimed it) -> sent; or back to pending with a later
# due_at after a failed attempt, failed after the last one, cancelled when no longer needed.
# queued and sending rows hold a lease: once it runs out (the message was lost, the worker
# died) the dispatcher queues the row again. A sending lease outlasts the task's hard time
# limit, so the worker that held it is certainly gone: only an e-mail the SMTP server accepted
# just before its worker was killed can be sent twice.

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
    if reminders.wanted_for(kind=ReminderKind.CANCELLATION, status=appointment.status):
        if now < appointment.start:
            wanted[ReminderKind.CANCELLATION] = now
    else:
        for rule in appointment.appointment_type.reminder_rules.all():
            if not reminders.wanted_for(kind=rule.kind, status=appointment.status):
                continue
            timing = reminders.Rule(rule.kind, rule.offset_minutes, rule.at_local_time)
            due = reminders.due_at(rule=timing, start=appointment.start, time_zone=appointment.time_zone, now=now)
            if due is not None:
                wanted[timing.kind] = due
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
    from booking.tasks import send_reminder

    # One Redis pipeline per batch (telemed/queueing.py). If it fails, nothing is lost: rows the
    # dispatcher queued come back when their lease lapses; rows sent at once after a booking or a
    # resend are still pending and due, and the next pass takes them (a claim keeps any of them
    # from going twice).
    enqueue(send_reminder, [(reminder_id,) for reminder_id in ids])


def reminder_send(*, reminder_id: int) -> str:
    """Send one reminder if it is due and nobody else holds it. Returns what happened (for tests/logs)."""
    now, claim = timezone.now(), secrets.token_hex(16)
    taking: dict[str, Any] = {
        "reminder_id": reminder_id,
        "claim": claim,
        "lease_until": now + _claim_lease(),
        "now": now,
    }
    # The row stays locked while it is checked and sent. A move or a cancel of its visit locks the
    # visit's reminders in its own transaction: it waits for this send (at most EMAIL_TIMEOUT) and
    # then reopens the row for the new time, or it went first and reset the claim, and this finds
    # nothing.
    if reminder_sql.one_round_trip():  # a worker: the claim, the lock and the read in one round trip
        reminder = reminder_sql.claim_and_read_locked(**taking, max_attempts=MAX_ATTEMPTS)  # rolls back if it fails
        try:
            if reminder is None:
                reminder_sql.end()
                return "not mine"
            return _send_claimed(reminder, claim=claim, now=now, commit=True)
        except BaseException:
            reminder_sql.rollback()  # the claim stays: a lost send is retried once its lease lapses
            raise
    if not reminder_sql.claim(**taking, max_attempts=MAX_ATTEMPTS):
        return "not mine"
    with transaction.atomic():
        reminder = reminder_sql.read_locked(reminder_id=reminder_id, claim=claim)
        if reminder is None:
            return "not mine"
        return _send_claimed(reminder, claim=claim, now=now, commit=False)


def _send_claimed(reminder: Reminder, *, claim: str, now: datetime, commit: bool) -> str:
    """Check, send and record one claimed, locked reminder; `commit` ends its transaction with the record.

    Runs inside the send's transaction, which Django may not know of (claim_and_read_locked): nothing
    here may open a transaction of its own, whose commit would release the row's lock mid-send."""
    from booking.emails import reminder_email

    appointment = reminder.appointment

    def outcome(status: Reminder.Status, **fields) -> None:
        # Written here, not by the model's signals: the row is finished by a bulk UPDATE.
        record_change(reminder, {"status": [reminder.status, status.value], **_audited(fields)})
        reminder_sql.finish(
            reminder_id=reminder.pk, claim=claim, status=status.value, now=timezone.now(), commit=commit, **fields
        )
        if reminder.kind == ReminderKind.CONFIRMATION and status != Reminder.Status.PENDING:
            # The confirmation no longer holds the visit's other reminders back: those already
            # due go now rather than at the next dispatch pass, up to a minute later. After the
            # send's commit: at once in a worker, whose transaction Django does not see (and
            # the commit has just been sent with the outcome).
            transaction.on_commit(lambda: _enqueue_held_back(appointment.pk), robust=True)

    if (
        reminder.for_start != appointment.start
        or not reminders.wanted_for(kind=reminder.kind, status=appointment.status)
        or not reminders.still_useful(kind=reminder.kind, start=appointment.start, due=reminder.due_at, now=now)
    ):
        outcome(Reminder.Status.CANCELLED, error=_("No longer needed when due."))
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
        if commit:
            reminder_sql.end()
        return "waits for the confirmation"
    try:
        _deliver(reminder_email(reminder))
    except Exception as exc:  # noqa: BLE001 - any failure is one attempt; the row says which
        _close_mail_connection()
        logger.warning("reminder %s: attempt %s failed (%s)", reminder.pk, reminder.attempts, type(exc).__name__)
        if reminder.attempts >= MAX_ATTEMPTS:
            outcome(Reminder.Status.FAILED, error=_describe(exc))
            return "failed"
        outcome(
            Reminder.Status.PENDING,
            error=_describe(exc),
            due_at=timezone.now() + reminders.retry_delay(reminder.attempts),
        )
        return "retry"
    outcome(Reminder.Status.SENT, sent_at=timezone.now())
    return "sent"


def _audited(fields: dict) -> dict:
    """A send's outcome for the audit trail, by the model's field names: {field: [before, after]}."""
    names = {"sent_at": "sent_at", "due_at": "due_at", "error": "last_error"}
    return {names[name]: [None, str(value)] for name, value in fields.items() if name in names}


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
            if reminders.wanted_for(kind=row.kind, status=row.appointment.status)
            and reminders.still_useful(kind=row.kind, start=row.appointment.start, due=now, now=now)
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
