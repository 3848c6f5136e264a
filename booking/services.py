"""Every write of the booking app: book, reschedule, cancel. Times are aware; patient data never logged."""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg2.errors
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from booking import plan_rules, selectors, slots
from booking.models import (
    MAX_PLAN_SESSIONS,
    MAX_PLAN_SPACING_HOURS,
    Appointment,
    AppointmentType,
    Patient,
    PatientNote,
    TreatmentPlan,
)
from reminders.services import reminders_sync
from screening.models import Outcome, Screening
from staff.audit import acting_as
from staff.mixins import clinic_time
from telemed.owed import lost_since
from telemed.people import person_name
from telemed.queueing import enqueue
from treatment.rules import rules_for

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
        return plan_refusal(patient=patient, appointment_type=appointment_type) or rems_refusal(
            patient=patient, appointment_type=appointment_type
        )
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


def plan_refusal(*, patient: Patient | None, appointment_type: AppointmentType) -> "StrOrPromise":
    """Why this patient may not book a session of this treatment now (empty when they may)."""
    if patient is not None and selectors.open_plan(patient=patient, appointment_type=appointment_type):
        return ""
    if patient is not None and patient.treatment_plans.filter(appointment_type=appointment_type).exists():
        return _("You have booked every session of your treatment plan. To talk about more sessions, please call us.")
    return _("Treatment sessions are booked within a treatment plan, after a clinician has approved it.")


# --- The SPRAVATO REMS: esketamine is booked and checked in only for an enrolled patient ----------

SPRAVATO_APPROVED_ON = date(2019, 3, 5)  # FDA approval: no REMS enrollment is older


class RemsRefused(BookingError):
    """An esketamine visit booked online for a patient whose REMS enrollment is not recorded."""


def rems_required(appointment_type: AppointmentType) -> bool:
    """Whether this type's sessions are given under the SPRAVATO REMS (its chart rules say so)."""
    chart_rules = rules_for(appointment_type.slug)
    return chart_rules is not None and chart_rules.rems


def rems_unenrolled(*, patient: Patient | None, appointment_type: AppointmentType) -> bool:
    return rems_required(appointment_type) and (patient is None or patient.rems_enrolled_on is None)


def rems_refusal(*, patient: Patient | None, appointment_type: AppointmentType) -> str:
    """What the patient is told when their enrollment is missing (empty when none is needed or it is recorded)."""
    if not rems_unenrolled(patient=patient, appointment_type=appointment_type):
        return ""
    return _(
        "Before your first session, the clinic enrolls you in the SPRAVATO REMS, the safety program "
        "the FDA requires for esketamine nasal spray. Your enrollment is not recorded yet, so this "
        "session cannot be booked online: please call us on %(phone)s and we will enroll you; then "
        "you can book here."
    ) % {"phone": settings.CLINIC_PHONE}


REMS_STAFF_REFUSAL = _lazy(
    "This patient's SPRAVATO REMS enrollment is not recorded, so an esketamine visit cannot be "
    "booked, moved or checked in. A clinician records the enrollment date on the patient's record first."
)


# --- A visit with a session chart stays as charted ---------------------------------------------

CHARTED_FIELDS = frozenset({"patient", "appointment_type", "start", "clinician", "status"})
CHARTED_REFUSAL = _lazy(
    "This visit has a session chart: its patient, treatment, time, clinician and status stay as "
    "charted. A clinician corrects the chart itself, or adds an addendum once it is signed."
)


def charted(visit: Appointment) -> bool:
    from treatment.models import SessionRecord  # treatment builds on booking

    return visit.pk is not None and SessionRecord.objects.filter(appointment_id=visit.pk).exists()


def charted_change_refused(*, visit: Appointment, changed: frozenset[str] | set[str] | None) -> bool:
    """Whether a staff edit of these fields would rewrite a charted visit (its chart and REMS
    form would then describe another patient, treatment or time)."""
    return bool(changed and CHARTED_FIELDS & set(changed)) and charted(visit)


def rems_visit_check(visit: Appointment) -> None:
    """Refuse staff an esketamine visit of a patient whose enrollment is not recorded (RemsVisitRefused)."""
    if rems_required(visit.appointment_type) and visit.patient.rems_enrolled_on is None:
        raise RemsVisitRefused(REMS_STAFF_REFUSAL)


def rems_enrollment_record(*, patient: Patient, enrolled_on: date, by, now: datetime | None = None) -> Patient:
    """Record the day the patient was enrolled in the SPRAVATO REMS, and who recorded it (a
    correction records again). Not in the future, not before SPRAVATO was approved."""
    now = now or timezone.now()
    today = timezone.localdate(now, ZoneInfo(settings.CLINIC_TIME_ZONE))
    if enrolled_on > today:
        raise ValidationError({"enrolled_on": _("The enrollment date cannot be in the future.")})
    if enrolled_on < SPRAVATO_APPROVED_ON:
        raise ValidationError(
            {
                "enrolled_on": _("SPRAVATO was approved on %(day)s: an enrollment date is on or after it.")
                % {"day": formats.date_format(SPRAVATO_APPROVED_ON, "F j, Y")}
            }
        )
    with transaction.atomic(), acting_as(by):
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.anonymised_at is not None:
            raise ValidationError({"enrolled_on": _("This record is anonymised: nothing can be recorded on it.")})
        locked.rems_enrolled_on, locked.rems_recorded_by, locked.rems_recorded_at = enrolled_on, by, now
        locked.save(update_fields=["rems_enrolled_on", "rems_recorded_by", "rems_recorded_at"])
    patient.rems_enrolled_on, patient.rems_recorded_by, patient.rems_recorded_at = enrolled_on, by, now
    return patient


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
            patient = patient_for_booking(details=details, proven=proven_patient)
            if appointment_type.needs_approval:
                _plan_link_check(patient=patient, proven_patient=proven_patient)
            plan = _plan_for(patient=patient, appointment_type=appointment_type, start=start, time_zone=time_zone)
            if refusal := rems_refusal(patient=patient, appointment_type=appointment_type):
                raise RemsRefused(refusal)
            return _visit_create(
                appointment_type=appointment_type,
                clinician_id=clinician_id,
                start=start,
                patient=patient,
                plan=plan,
                time_zone=time_zone,
                request_key=request_key,
                screening=screening,
                now=now,
            )
    except IntegrityError:
        # Either the same request won a race with itself, or another patient took the time.
        existing = Appointment.objects.filter(request_key=request_key).first()
        if existing:
            return existing
        raise _taken(appointment_type, start, now) from None


class PlanRefused(BookingError):
    """A treatment session the patient's plan does not allow (none left, too close to another)."""


def _plan_for(
    *, patient: Patient, appointment_type: AppointmentType, start: datetime, time_zone: str, ignore=None
) -> TreatmentPlan | None:
    """The plan a treatment session is booked within, locked until the booking commits, so two
    bookings at once cannot both take its last session. None for a type that needs no approval."""
    if not appointment_type.needs_approval:
        return None
    plan = selectors.open_plan(patient=patient, appointment_type=appointment_type)
    if plan is None:
        raise PlanRefused(plan_refusal(patient=patient, appointment_type=appointment_type))
    locked = _plan_locked(plan.pk)
    if selectors.plan_sessions_left(locked) < 1:
        raise PlanRefused(plan_refusal(patient=patient, appointment_type=appointment_type))
    plan_spacing_check(plan=locked, start=start, time_zone=time_zone, ignore_appointment_id=ignore)
    return locked


def _plan_locked(plan_id: int) -> TreatmentPlan:
    """The plan locked until the transaction ends, its sessions counted after the lock: two
    bookings at once wait in turn and the second sees the first's session."""
    TreatmentPlan.objects.select_for_update().filter(pk=plan_id).exists()
    return selectors.plans_with_use(TreatmentPlan.objects.filter(pk=plan_id)).get()


def plan_spacing_check(*, plan: TreatmentPlan, start: datetime, time_zone: str, ignore_appointment_id=None) -> None:
    """Refuse a session closer to another of the plan's than its minimum spacing."""
    gap = timedelta(hours=plan.min_hours_between)
    other = plan_rules.too_close(
        start, selectors.plan_session_starts(plan, ignore_appointment_id=ignore_appointment_id), gap
    )
    if other is not None:
        local = timezone.localtime(other, ZoneInfo(time_zone))
        raise PlanRefused(
            _(
                "Your clinician asked for at least %(hours)d hours between sessions, and you have one on "
                "%(day)s at %(time)s. Please choose a time further from it."
            )
            % {
                "hours": plan.min_hours_between,
                "day": formats.date_format(local, "l, F j"),
                "time": formats.time_format(local, "g:i A"),
            }
        )


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
            if refusal := rems_refusal(patient=locked.patient, appointment_type=locked.appointment_type):
                raise RemsRefused(refusal)
            clinician_id = free_clinician(
                appointment_type=locked.appointment_type,
                clinician_id=clinician_id,
                start=start,
                now=now,
                ignore=locked.pk,
            )
            if clinician_id is None:
                raise _taken(locked.appointment_type, start, now)
            if locked.treatment_plan_id is not None:
                plan = TreatmentPlan.objects.select_for_update().get(pk=locked.treatment_plan_id)
                plan_spacing_check(plan=plan, start=start, time_zone=locked.time_zone, ignore_appointment_id=locked.pk)
            locked.end, locked.blocked_start, locked.blocked_end = visit_times(locked.appointment_type, start)
            locked.start, locked.clinician_id = start, clinician_id
            return _visit_time_save(locked, now=now)
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
        if charted(locked):  # the session has begun: its chart is finished, not the visit cancelled
            raise VisitActionRefused(CHARTED_REFUSAL)
        locked.status = Appointment.Status.CANCELLED
        locked.cancel_reason = reason.strip()[:500]
        locked.cancelled_at = now
        locked.sequence += 1
        locked.save(update_fields=["status", "cancel_reason", "cancelled_at", "sequence", "updated_at"])
        reminders_sync(appointment=locked, now=now)
        return locked


def treatment_plan_approve(
    *,
    screening: Screening,
    appointment_type: AppointmentType,
    sessions: int,
    min_hours_between: int,
    note: str,
    by,
    patient: Patient | None = None,
    now: datetime | None = None,
) -> TreatmentPlan:
    """Approve a treatment plan after a reviewed screening; the patient is e-mailed a booking link
    for it. `patient`: whose plan it is; by default the patient of the screening's visits, else
    the record the screening's details lead to (`patient_for_booking`: never rewritten)."""
    now = now or timezone.now()
    with transaction.atomic():
        screening = Screening.objects.select_for_update().get(pk=screening.pk)
        if not appointment_type.needs_approval:
            raise PlanRefused(_("Plans are for treatments that need a clinician's approval."))
        if screening.submitted_at is None or screening.reviewed_at is None:
            raise PlanRefused(_("A plan is approved after the screening has been reviewed."))
        if screening.clinical_outcome == Outcome.NOT_SUITABLE:
            raise PlanRefused(_("This screening rules the treatment out (not suitable): no plan can rest on it."))
        patient = patient or screening_patient(screening)
        if not 1 <= sessions <= MAX_PLAN_SESSIONS or not 0 <= min_hours_between <= MAX_PLAN_SPACING_HOURS:
            raise PlanRefused(_("Sessions and spacing are outside what a plan can hold."))
        if selectors.open_plan(patient=patient, appointment_type=appointment_type):
            raise PlanRefused(_("This patient already has an open plan for this treatment: end it first."))
        plan = TreatmentPlan.objects.create(
            patient=patient,
            appointment_type=appointment_type,
            sessions=sessions,
            min_hours_between=min_hours_between,
            screening=screening,
            note=note.strip()[:2000],
            approved_by=by,
            approved_at=now,
        )
        # The default binds this plan (python/mypy#15459: mypy cannot infer such a lambda).
        transaction.on_commit(lambda plan_id=plan.pk: _send_approval(plan_id))  # type: ignore[misc]
    return plan


def screening_patient(screening: Screening) -> Patient:
    """The patient a screening belongs to: the one its visits were booked for, else the record
    its details lead to (a new one when none matches; an existing one is never rewritten)."""
    booked = Patient.objects.filter(appointments__screening=screening, anonymised_at=None).order_by("pk").first()
    if booked is not None:
        return booked
    if not screening.email:  # its details cleared (retention): no one to approve or to e-mail
        raise PlanRefused(_("This screening no longer holds the patient's details: no plan can be approved on it."))
    return patient_for_booking(
        details=PatientDetails(
            full_name=screening.full_name,
            email=screening.email,
            phone=screening.phone,
            date_of_birth=screening.date_of_birth,
        )
    )


def treatment_plan_end(*, plan: TreatmentPlan, reason: str, now: datetime | None = None) -> TreatmentPlan:
    """End a plan early: no more sessions are booked within it; those booked stay."""
    with transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.ended_at is None:
            locked.ended_at, locked.ended_reason = now or timezone.now(), reason.strip()[:500]
            locked.save(update_fields=["ended_at", "ended_reason"])
    return locked


def _send_approval(plan_id: int) -> None:
    """Broker down: the plan stands; the booking link goes with the next sweep (send_missed_approvals)."""
    from booking.tasks import send_treatment_approval

    enqueue(send_treatment_approval, [(plan_id,)])


def treatment_approval_notify(*, plan_id: int) -> bool:
    """E-mail the patient of an approved plan their booking link, once: the row records that it went."""
    from booking.emails import approval_email

    with transaction.atomic():
        plan = (
            TreatmentPlan.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=plan_id, emailed_at__isnull=True, ended_at__isnull=True, patient__anonymised_at=None)
            .first()
        )
        if plan is None:
            return False
        approval_email(plan).send()
        plan.emailed_at = timezone.now()
        plan.save(update_fields=["emailed_at"])
    return True


def missed_approvals_notify(*, now: datetime | None = None) -> int:
    """Send the booking-link e-mails whose message was lost (telemed/owed.py). Returns how many."""
    missed = TreatmentPlan.objects.filter(
        emailed_at__isnull=True, ended_at__isnull=True, **lost_since("approved_at", now or timezone.now())
    ).values_list("pk", flat=True)
    return sum(treatment_approval_notify(plan_id=plan_id) for plan_id in missed)


def appointment_staff_save(
    *, appointment: Appointment, changed: frozenset[str] | None = None, now: datetime | None = None
) -> Appointment:
    """Save a visit as staff edited it in the admin (`changed`: the fields they changed; None for
    a new visit). A new time, type or clinician holds new time; a cancel is dated; the reminders
    follow in the same transaction.

    Staff may place a visit outside open slots once they confirm it (AppointmentAdminForm); the
    database's exclusion constraint still refuses an overlap.
    """
    now = now or timezone.now()
    if charted_change_refused(visit=appointment, changed=changed):
        raise VisitActionRefused(CHARTED_REFUSAL)
    if appointment_staff_rems_check_needed(appointment=appointment, changed=changed):
        rems_visit_check(appointment)
    with transaction.atomic():
        if changed is None or changed & {"start", "appointment_type", "clinician", "status"}:
            appointment.end, appointment.blocked_start, appointment.blocked_end = staff_visit_times(appointment)
        if changed and changed & {"start", "appointment_type", "status"}:
            appointment.sequence += 1  # the patient's calendar event changes
        if appointment.status == Appointment.Status.CANCELLED and appointment.cancelled_at is None:
            appointment.cancelled_at = now
        elif appointment.status != Appointment.Status.CANCELLED:
            appointment.cancelled_at = None
        appointment.save()
        reminders_sync(appointment=appointment, now=now)
    return appointment


def appointment_staff_rems_check_needed(*, appointment: Appointment, changed: frozenset[str] | None) -> bool:
    """Whether saving this staff edit books the visit (new, or its patient, type, time or booked
    state changed): an esketamine visit then needs the patient's REMS enrollment recorded."""
    return appointment.status == Appointment.Status.CONFIRMED and (
        changed is None or bool(changed & {"patient", "appointment_type", "start", "status"})
    )


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


def patient_note_add(*, patient: Patient, author, text: str) -> PatientNote:
    """A staff note on the patient's record, dated and signed by `author`. Notes are added, never
    edited; the audit trail records each with who wrote it (the request's user)."""
    note = PatientNote(patient=patient, author=author, text=text.strip())
    limit = PatientNote._meta.get_field("text").max_length or 0
    if "\x00" in note.text or len(note.text) > limit:
        raise ValidationError({"text": _("A note is plain text of at most %(limit)d characters.") % {"limit": limit}})
    note.full_clean(exclude=["patient", "author"])
    with transaction.atomic():
        note.save()
    return note


# --- Staff's visit actions (the day view, the admin): check in, complete, no-show, move ---------------


class VisitActionRefused(BookingError):
    """A staff action this visit's state does not allow; the message is written for staff."""


class RemsVisitRefused(VisitActionRefused):
    """An esketamine visit booked, moved or checked in by staff for a patient whose SPRAVATO REMS
    enrollment is not recorded."""


PLACEMENT_REASONS = {
    slots.OUTSIDE_WORKING_HOURS: _lazy("outside working hours"),
    slots.DURING_TIME_OFF: _lazy("during time off"),
    slots.OVER_A_BUFFER: _lazy("over another visit's buffer"),
}
CLASH = _lazy("That time overlaps another visit of this clinician. Pick another time or another clinician.")


class OutsideHours(BookingError):
    """A time that is not an open slot for the clinician: staff confirm it before anything is saved or sent."""

    def __init__(self, reasons: "list[StrOrPromise]"):
        self.reasons = reasons
        super().__init__(_("This time is %(reasons)s.") % {"reasons": ", ".join(str(reason) for reason in reasons)})


def placement_reasons(placement: slots.Placement) -> "list[StrOrPromise]":
    return [PLACEMENT_REASONS[problem] for problem in placement.problems]


def staff_visit_times(appointment: Appointment) -> tuple[datetime, datetime, datetime]:
    """visit_times() for a visit staff place: its end, and the time it holds, left short where
    a neighbour's held time begins or ends (a visit placed over a buffer, once confirmed)."""
    placement = selectors.visit_placement(
        appointment_type=appointment.appointment_type,
        clinician_id=appointment.clinician_id,
        start=appointment.start,
        ignore_appointment_id=appointment.pk,
    )
    return appointment.start + appointment.appointment_type.duration, placement.held.start, placement.held.end


def _locked_visit(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)


def _not_booked(visit: Appointment) -> VisitActionRefused:
    return VisitActionRefused(
        _("This visit is %(status)s, so nothing was changed.") % {"status": visit.get_status_display().lower()}
    )


def appointment_check_in(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The patient has arrived: on the visit's day (clinic time), or up to its end if that is later.
    Checking in twice keeps the first time."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(by):
        locked = _locked_visit(appointment)
        if locked.checked_in_at is not None:
            return locked
        if locked.status != Appointment.Status.CONFIRMED:
            raise _not_booked(locked)
        rems_visit_check(locked)
        zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
        day_start = datetime.combine(timezone.localdate(locked.start, zone), datetime.min.time(), tzinfo=zone)
        day_end = datetime.combine(day_start.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        if not day_start <= now < max(day_end, locked.end):
            raise VisitActionRefused(
                _("Patients are checked in on the day of their visit; this one is on %(day)s.")
                % {"day": day_start.strftime("%A %B %d, %Y")}
            )
        locked.checked_in_at = now
        locked.save(update_fields=["checked_in_at", "updated_at"])
        return locked


def _visit_mark(*, appointment: Appointment, status: str, by, now: datetime) -> bool:
    """Mark a visit that has started completed or no-show; False when it already is."""
    with transaction.atomic(), acting_as(by):
        locked = _locked_visit(appointment)
        if locked.status == status:
            return False
        if locked.status != Appointment.Status.CONFIRMED:
            raise _not_booked(locked)
        if now < locked.start:
            raise VisitActionRefused(
                _("This visit has not started yet (it starts %(start)s), so nothing was changed.")
                % {"start": clinic_time(locked.start)}
            )
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        reminders_sync(appointment=locked, now=now)  # before-visit reminders stop; completed keeps its follow-up
    return True


def appointment_complete(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The visit took place: its check-in message after it still goes."""
    _visit_mark(appointment=appointment, status=Appointment.Status.COMPLETED, by=by, now=now or timezone.now())
    appointment.refresh_from_db()
    return appointment


def appointment_no_show(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """The patient did not come: no more reminders for this visit."""
    _visit_mark(appointment=appointment, status=Appointment.Status.NO_SHOW, by=by, now=now or timezone.now())
    appointment.refresh_from_db()
    return appointment


def _visits_mark(*, appointments, status: str, by, now: datetime | None) -> int:
    now = now or timezone.now()
    marked = 0
    for visit in appointments:  # one save each: the trail has every visit, and by whom
        try:
            marked += _visit_mark(appointment=visit, status=status, by=by, now=now)
        except VisitActionRefused:
            continue  # not started, cancelled, or already marked otherwise: left as it is
    return marked


def appointments_complete(*, appointments, by, now: datetime | None = None) -> int:
    """Mark each visit completed that can be (started, still booked); returns how many were."""
    return _visits_mark(appointments=appointments, status=Appointment.Status.COMPLETED, by=by, now=now)


def appointments_no_show(*, appointments, by, now: datetime | None = None) -> int:
    """Mark each visit no-show that can be (started, still booked); returns how many were."""
    return _visits_mark(appointments=appointments, status=Appointment.Status.NO_SHOW, by=by, now=now)


def appointment_staff_move(
    *,
    appointment: Appointment,
    start: datetime,
    clinician_id: int,
    by,
    outside_hours_confirmed: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Move a visit for the patient (who asked by phone): one atomic swap, as appointment_reschedule,
    without the online cut-off, notice or horizon. A time that is not an open slot for the clinician
    raises OutsideHours, naming why, unless `outside_hours_confirmed`; nothing is saved or sent then.
    The patient is e-mailed the new time and their calendar event moves."""
    now = now or timezone.now()
    try:
        with transaction.atomic(), acting_as(by):
            locked = _locked_visit(appointment)
            if locked.status != Appointment.Status.CONFIRMED:
                raise _not_booked(locked)
            if charted(locked):
                raise VisitActionRefused(CHARTED_REFUSAL)
            rems_visit_check(locked)
            if start < now:
                raise VisitActionRefused(_("That time has passed. Pick a time still ahead."))
            placement = selectors.visit_placement(
                appointment_type=locked.appointment_type,
                clinician_id=clinician_id,
                start=start,
                ignore_appointment_id=locked.pk,
            )
            if placement.clash:
                raise VisitActionRefused(CLASH)
            if placement.problems and not outside_hours_confirmed:
                raise OutsideHours(placement_reasons(placement))
            if (locked.start, locked.clinician_id) == (start, clinician_id):
                return locked
            locked.start, locked.clinician_id = start, clinician_id
            locked.end = start + locked.appointment_type.duration
            locked.blocked_start, locked.blocked_end = placement.held.start, placement.held.end
            return _visit_time_save(locked, now=now)
    except IntegrityError:  # the exclusion constraint: another booking took the time meanwhile
        raise VisitActionRefused(CLASH) from None


def _plan_link_check(*, patient: Patient, proven_patient: Patient | None) -> None:
    """Treatment sessions are for the patient whose booking link this browser holds."""
    if proven_patient is None or patient.pk != proven_patient.pk:
        raise PlanRefused(
            _(
                "Treatment sessions are booked from the link in your plan's e-mail, with the "
                "e-mail address it was sent to."
            )
        )


@contextmanager
def _time_taken_raises_integrity_error():
    """Writing a visit's time: the exclusion constraint raises IntegrityError when another
    transaction holds an overlapping visit. When two transactions write overlapping visits at the
    same instant, each waits on the other's uncommitted row and PostgreSQL breaks the deadlock by
    rolling one back: for that one, too, the other booking took the time."""
    try:
        yield
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg2.errors.DeadlockDetected):
            raise IntegrityError("the time was taken by a concurrent booking") from exc
        raise


MOVED_FIELDS = ("start", "end", "blocked_start", "blocked_end", "clinician")


def _visit_time_save(visit: Appointment, *, now: datetime) -> Appointment:
    """A moved visit's new time written (its calendar event replaced: a new SEQUENCE) and its
    reminders recomputed, inside the caller's transaction."""
    visit.sequence += 1
    with _time_taken_raises_integrity_error():
        visit.save(update_fields=[*MOVED_FIELDS, "sequence", "updated_at"])
    reminders_sync(appointment=visit, now=now)
    return visit


def _visit_create(
    *,
    appointment_type: AppointmentType,
    clinician_id: int,
    start: datetime,
    patient: Patient,
    plan: TreatmentPlan | None,
    time_zone: str,
    request_key: str,
    screening: Screening | None,
    now: datetime,
) -> Appointment:
    """One visit written with its reminders, inside the caller's transaction (the clinician found
    free; the exclusion constraint raises IntegrityError if someone else took the time meanwhile)."""
    end, blocked_start, blocked_end = visit_times(appointment_type, start)
    with _time_taken_raises_integrity_error():
        appointment = Appointment.objects.create(
            patient=patient,
            treatment_plan=plan,
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


class SeriesSlotTaken(BookingError):
    """One session's time of a series is no longer free: nothing of the series was booked."""

    def __init__(self, number: int, nearby: list[selectors.OpenSlot]):
        super().__init__(
            _(
                "Sorry, the time for session %(number)d was just taken, so nothing is booked yet. "
                "Please choose another time for it, then book again."
            )
            % {"number": number}
        )
        self.number = number  # 1-based, in the series' order
        self.nearby = nearby


def series_request_keys(request_key: str, count: int) -> list[str]:
    """The request key of each session of a series: one per visit, `<key>:<number>` (≤ 60 + 3 characters)."""
    return [f"{request_key[:60]}:{number}" for number in range(1, count + 1)]


def appointment_series_book(
    *,
    plan: TreatmentPlan,
    picks: list[plan_rules.Pick],
    details: PatientDetails,
    time_zone: str,
    request_key: str,
    proven_patient: Patient | None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Book several sessions of a treatment plan at once: every pick (clinician id or None for
    any clinician free then, start) or none of them. Refused (PlanRefused) beyond the sessions
    left or closer than the plan's spacing, to each other or to its sessions already booked; a
    time no longer free raises SeriesSlotTaken naming the session. The same request_key twice
    returns the first series (its visits carry series_request_keys)."""
    now = now or timezone.now()
    keys = series_request_keys(request_key, len(picks))
    existing = list(Appointment.objects.filter(request_key__in=keys).order_by("start"))
    if existing:
        return existing
    appointment_type = plan.appointment_type
    number = 0  # the session being booked, for the error when the database refuses its time
    try:
        with transaction.atomic():
            patient = patient_for_booking(details=details, proven=proven_patient)
            _plan_link_check(patient=patient, proven_patient=proven_patient)
            locked = _plan_locked(plan.pk)
            if locked.patient_id != patient.pk or locked.ended_at is not None:
                raise PlanRefused(plan_refusal(patient=patient, appointment_type=appointment_type))
            if refusal := rems_refusal(patient=patient, appointment_type=appointment_type):
                raise RemsRefused(refusal)
            left = selectors.plan_sessions_left(locked)
            if not picks or len(picks) > left:
                raise PlanRefused(series_too_many(left))
            gap = selectors.series_gap(locked)
            if close := plan_rules.series_too_close([start for _clinician, start in picks], gap):
                raise PlanRefused(series_spacing_refusal(locked, *close))
            appointments = []
            for number, (clinician_id, start) in enumerate(picks, start=1):
                plan_spacing_check(plan=locked, start=start, time_zone=time_zone)  # against those booked before
                free = free_clinician(
                    appointment_type=appointment_type, clinician_id=clinician_id, start=start, now=now
                )
                if free is None:
                    raise _series_taken(appointment_type, number, start, now)
                appointments.append(
                    _visit_create(
                        appointment_type=appointment_type,
                        clinician_id=free,
                        start=start,
                        patient=patient,
                        plan=locked,
                        time_zone=time_zone,
                        request_key=keys[number - 1],
                        screening=None,
                        now=now,
                    )
                )
            return appointments
    except IntegrityError:
        # The same request won a race with itself, or another patient took session `number`'s time.
        existing = list(Appointment.objects.filter(request_key__in=keys).order_by("start"))
        if existing:
            return existing
        raise _series_taken(appointment_type, number, picks[number - 1][1], now) from None


def _series_taken(appointment_type: AppointmentType, number: int, start: datetime, now: datetime) -> SeriesSlotTaken:
    logger.info("booking: series slot taken (type %s, session %s)", appointment_type.pk, number)
    return SeriesSlotTaken(number, selectors.nearby_slots(appointment_type=appointment_type, around=start, now=now))


def series_too_many(left: int) -> str:
    return ngettext(
        "Your plan has %(left)d session left to book. Please choose that many.",
        "Your plan has %(left)d sessions left to book. Please choose no more than that.",
        left,
    ) % {"left": left}


def series_spacing_refusal(plan: TreatmentPlan, first: int, second: int) -> str:
    return _(
        "Sessions %(first)d and %(second)d are closer than the %(hours)d hours your clinician asked for "
        "between sessions. Please change one of them."
    ) % {"first": first + 1, "second": second + 1, "hours": plan.min_hours_between}
