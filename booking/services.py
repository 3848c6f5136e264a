"""Every write of the booking app: book, reschedule, cancel. Times are aware; patient data never logged."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from booking import selectors, slots
from booking.models import Appointment, AppointmentType, Patient
from reminders.services import reminders_sync
from screening.models import Outcome, Screening
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
