"""Every write of the booking app: book, reschedule, cancel. Times are aware; patient data never logged."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import selectors, slots
from booking.models import Appointment, AppointmentType, Patient
from screening.models import Outcome, Screening

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
    date_of_birth: object = None


def booking_refusal(*, appointment_type: AppointmentType, screening: Screening | None, patient: Patient | None) -> str:
    """Why this person may not book this type online (empty when they may)."""
    if not appointment_type.active:
        return _("This kind of appointment cannot be booked online. Please call us.")
    if appointment_type.needs_approval:
        if patient is None or patient.approved_for_treatment_at is None:
            return _("Treatment sessions are booked after a clinician has approved your treatment plan.")
        return ""
    if appointment_type.slug == "consultation":
        if screening is None or screening.submitted_at is None:
            return _("Please complete the screening first; it leads you to booking.")
        if screening.clinical_outcome == Outcome.NOT_SUITABLE:
            return _("From your screening we cannot offer a consultation online. Please call us to talk it through.")
        return ""
    if patient is None:
        return _("Follow-up visits are for patients who have had a consultation with us.")
    return ""


def _slot_is_open(*, appointment_type, clinician_id: int, start: datetime, now: datetime, ignore=None) -> bool:
    window = selectors.open_slots(
        appointment_type=appointment_type,
        window_start=start,
        window_end=start + timedelta(seconds=1),
        now=now,
        clinician_id=clinician_id,
        ignore_appointment_id=ignore,
    )
    return any(slot.start == start for slot in window)


def _blocked(appointment_type: AppointmentType, start: datetime) -> tuple[datetime, datetime, datetime]:
    interval = slots.padded(start, selectors.slot_rules(appointment_type))
    return start + appointment_type.duration, interval.start, interval.end


def patient_upsert(*, details: PatientDetails) -> Patient:
    patient, _created = Patient.objects.update_or_create(
        email=details.email.strip().lower(),
        defaults={"full_name": details.full_name, "phone": details.phone, "date_of_birth": details.date_of_birth},
    )
    return patient


def appointment_book(
    *,
    appointment_type: AppointmentType,
    clinician_id: int,
    start: datetime,
    details: PatientDetails,
    time_zone: str,
    request_key: str,
    screening: Screening | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book one visit. The same request_key twice (a double click, a resubmit) returns the first booking."""
    now = now or timezone.now()
    existing = Appointment.objects.filter(request_key=request_key).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            if not _slot_is_open(appointment_type=appointment_type, clinician_id=clinician_id, start=start, now=now):
                raise _taken(appointment_type, start, now)
            end, blocked_start, blocked_end = _blocked(appointment_type, start)
            appointment = Appointment.objects.create(
                patient=patient_upsert(details=details),
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
            transaction.on_commit(lambda: _send_confirmation(appointment.pk))
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


def _send_confirmation(appointment_id: int) -> None:
    from booking.tasks import send_appointment_confirmation

    send_appointment_confirmation.delay(appointment_id)


def change_deadline(appointment: Appointment) -> datetime:
    return appointment.start - timedelta(hours=appointment.appointment_type.cancellation_cutoff_hours)


def can_change(appointment: Appointment, *, now: datetime | None = None) -> bool:
    return appointment.status == Appointment.Status.CONFIRMED and (now or timezone.now()) < change_deadline(appointment)


def appointment_reschedule(
    *, appointment: Appointment, clinician_id: int, start: datetime, now: datetime | None = None
) -> Appointment:
    """Move a visit in one atomic swap: the old time is free and the new one held, or nothing changes."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
            if not can_change(locked, now=now):
                raise ChangeTooLate(_("Online changes are closed for this appointment. Please call us."))
            if not _slot_is_open(
                appointment_type=locked.appointment_type,
                clinician_id=clinician_id,
                start=start,
                now=now,
                ignore=locked.pk,
            ):
                raise _taken(locked.appointment_type, start, now)
            locked.end, locked.blocked_start, locked.blocked_end = _blocked(locked.appointment_type, start)
            locked.start, locked.clinician_id = start, clinician_id
            locked.save(update_fields=["start", "end", "blocked_start", "blocked_end", "clinician", "updated_at"])
            transaction.on_commit(lambda: _send_confirmation(locked.pk))
            return locked
    except IntegrityError:  # the exclusion constraint: another booking won the race
        raise _taken(appointment.appointment_type, start, now) from None


def appointment_cancel(*, appointment: Appointment, reason: str = "", now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
        if locked.status == Appointment.Status.CANCELLED:
            return locked
        if not can_change(locked, now=now):
            raise ChangeTooLate(_("Online changes are closed for this appointment. Please call us."))
        locked.status = Appointment.Status.CANCELLED
        locked.cancel_reason = reason.strip()[:500]
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancel_reason", "cancelled_at", "updated_at"])
        return locked


def patients_approve_for_treatment(*, patients, user, now: datetime | None = None) -> int:
    """Approve for treatment sessions; each newly approved patient is e-mailed a booking link."""
    now = now or timezone.now()
    with transaction.atomic():
        newly = list(
            patients.filter(approved_for_treatment_at__isnull=True).select_for_update().values_list("pk", flat=True)
        )
        Patient.objects.filter(pk__in=newly).update(approved_for_treatment_at=now, approved_by=user)
        for patient_id in newly:
            transaction.on_commit(lambda patient_id=patient_id: _send_approval(patient_id))
    return len(newly)


def _send_approval(patient_id: int) -> None:
    from booking.tasks import send_treatment_approval

    send_treatment_approval.delay(patient_id)
