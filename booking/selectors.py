"""Reads of the booking app, each a fixed number of queries whatever the number of bookings."""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q

from booking import plan_rules, slots
from booking.models import Appointment, AppointmentType, Patient, TimeOff, TreatmentPlan, WorkingHours
from screening.models import Screening

# Busy times just outside the window still matter: a slot's buffers reach beyond it.
BUSY_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class OpenSlot:
    start: datetime
    end: datetime
    clinician_id: int
    clinician_name: str


def slot_rules(appointment_type: AppointmentType) -> slots.SlotRules:
    return slots.SlotRules(
        duration=timedelta(minutes=appointment_type.duration_minutes),
        step=timedelta(minutes=appointment_type.step_minutes),
        buffer_before=timedelta(minutes=appointment_type.buffer_before_minutes),
        buffer_after=timedelta(minutes=appointment_type.buffer_after_minutes),
        recovery=timedelta(minutes=appointment_type.recovery_minutes),
        min_notice=timedelta(hours=appointment_type.min_notice_hours),
        horizon=timedelta(days=appointment_type.horizon_days),
    )


def open_slots(
    *,
    appointment_type: AppointmentType,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    clinician_id: int | None = None,
    ignore_appointment_id: int | None = None,
) -> list[OpenSlot]:
    """Every open start time of this type in the window, for each clinician who offers it, with this object's rules."""
    found = open_starts(
        type_slug=appointment_type.slug,
        window_start=window_start,
        window_end=window_end,
        now=now,
        clinician_id=clinician_id,
        ignore_appointment_id=ignore_appointment_id,
        rules=slot_rules(appointment_type),
    )
    if found is None:
        return []
    duration = timedelta(minutes=appointment_type.duration_minutes)
    return [
        OpenSlot(start, start + duration, clinician, found.schedule.clinicians[clinician].name)
        for start, clinician in found.as_datetimes()
    ]


def nearby_slots(
    *, appointment_type: AppointmentType, around: datetime, now: datetime, limit: int = 5
) -> list[OpenSlot]:
    """Free times closest to the one a patient wanted, for when it was just taken."""
    candidates = open_slots(
        appointment_type=appointment_type,
        window_start=around - timedelta(days=2),
        window_end=around + timedelta(days=3),
        now=now,
    )
    by_distance = sorted(candidates, key=lambda slot: abs(slot.start - around))
    unique = list({slot.start: slot for slot in by_distance[: limit * 3]}.values())
    return sorted(unique[:limit], key=lambda slot: slot.start)


@dataclass(frozen=True)
class ClinicianHours:
    name: str
    working_hours: tuple[slots.WorkingBlock, ...]


@dataclass(frozen=True)
class TypeSchedule:
    """One appointment type as staff set it up: its rules and who gives it when. Kept per process (type_schedule)."""

    slug: str
    active: bool
    duration_minutes: int
    rules: slots.SlotRules
    clinicians: dict[int, ClinicianHours]


@dataclass(frozen=True)
class OpenStarts:
    schedule: TypeSchedule
    starts: list[tuple[int, int]]  # (start in microseconds since the epoch, clinician id), by start then name

    def as_datetimes(self) -> list[tuple[datetime, int]]:
        return [(slots.EPOCH + timedelta(microseconds=start), clinician) for start, clinician in self.starts]


def open_starts(
    *,
    type_slug: str,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    clinician_id: int | None = None,
    ignore_appointment_id: int | None = None,
    rules: slots.SlotRules | None = None,
) -> OpenStarts | None:
    """The open starts of the type with this slug (None if there is none), on the engine's integer timeline.

    `rules` overrides the type's own (a caller holding an AppointmentType uses the one it has).
    """
    schedule = type_schedule(type_slug)
    if schedule is None:
        return None
    wanted = [clinician for clinician in schedule.clinicians if clinician_id in (None, clinician)]
    busy = _busy(wanted, window_start - BUSY_MARGIN, window_end + BUSY_MARGIN, ignore_appointment_id) if wanted else {}
    rules = rules or schedule.rules
    clinic_tz = ZoneInfo(settings.CLINIC_TIME_ZONE)
    since, until, at = slots.micros(window_start), slots.micros(window_end), slots.micros(now)
    found: list[tuple[int, str, int]] = []
    for clinician, hours in schedule.clinicians.items():
        if clinician_id is not None and clinician != clinician_id:
            continue
        starts = slots.open_starts(
            rules=rules,
            clinic_tz=clinic_tz,
            working_hours=hours.working_hours,
            blocked=busy.get(clinician, ()),
            window_start=since,
            window_end=until,
            now=at,
        )
        found.extend((start, hours.name, clinician) for start in starts)
    found.sort()
    return OpenStarts(schedule, [(start, clinician) for start, _name, clinician in found])


# The type's schedule (its rules, its clinicians and their working hours) changes rarely and is read on
# every slot request: each process keeps it for up to SCHEDULE_RECHECK_SECONDS (the process where staff
# save forgets it at once: booking/signals.py, the others within that second). Busy times and time off
# are read on every request, one query.
SCHEDULE_RECHECK_SECONDS = 1.0
SCHEDULES_KEPT = 100  # types per process; there are a handful
clock = time.monotonic
_schedules: dict[str, tuple[float, TypeSchedule | None]] = {}


def type_schedule(type_slug: str) -> TypeSchedule | None:
    """The schedule of the type with this slug (None if there is none), as kept by this process."""
    now = clock()
    kept = _schedules.get(type_slug)
    if kept is not None and now - kept[0] < SCHEDULE_RECHECK_SECONDS:
        return kept[1]
    schedule = _read_schedule(type_slug)
    if len(_schedules) >= SCHEDULES_KEPT:
        _schedules.clear()
    _schedules[type_slug] = (now, schedule)
    return schedule


def forget_schedules() -> None:
    _schedules.clear()


def _read_schedule(type_slug: str) -> TypeSchedule | None:
    appointment_type = AppointmentType.objects.filter(slug=type_slug).first()
    if appointment_type is None:
        return None
    blocks: dict[int, list[slots.WorkingBlock]] = defaultdict(list)
    names: dict[int, str] = {}
    hours = (
        WorkingHours.objects.filter(clinician__active=True, clinician__appointment_types=appointment_type)
        .values_list("clinician_id", "clinician__name", "weekday", "start", "end")
        .order_by("clinician_id", "weekday", "start", "end")
    )
    for clinician, name, weekday, start, end in hours:
        blocks[clinician].append(slots.WorkingBlock(weekday, start, end))
        names[clinician] = name
    return TypeSchedule(
        slug=type_slug,
        active=appointment_type.active,
        duration_minutes=appointment_type.duration_minutes,
        rules=slot_rules(appointment_type),
        clinicians={clinician: ClinicianHours(names[clinician], tuple(blocks[clinician])) for clinician in blocks},
    )


def _busy(
    clinicians: list[int], since: datetime, until: datetime, ignore_appointment_id: int | None
) -> dict[int, list[tuple[int, int]]]:
    """The (start, end) in microseconds of each clinician's bookings (with their buffers) and time off."""
    appointments = (
        Appointment.objects.active()
        .filter(clinician_id__in=clinicians, blocked_start__lt=until, blocked_end__gt=since)
        .exclude(pk=ignore_appointment_id)
        .values_list("clinician_id", "blocked_start", "blocked_end")
        .order_by()
    )
    time_off = (
        TimeOff.objects.filter(clinician_id__in=clinicians, start__lt=until, end__gt=since)
        .values_list("clinician_id", "start", "end")
        .order_by()
    )
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for clinician, start, end in appointments.union(time_off, all=True):
        busy[clinician].append((slots.micros(start), slots.micros(end)))
    return busy


def rebook_query(appointment: Appointment) -> dict[str, str]:
    """The booking page's query to book again after a cancel: a consultation needs the screening it
    was booked from (only its token is read: its answers have no business here), others the patient."""
    token = (
        Screening.objects.filter(pk=appointment.screening_id).values_list("token", flat=True).first()
        if appointment.screening_id
        else None
    )
    return {"screening": token} if token else {"patient": appointment.patient.booking_token}


# The visits that take up one of a plan's sessions: a cancelled or missed visit gives it back.
PLAN_SESSION_STATUSES = (Appointment.Status.CONFIRMED, Appointment.Status.COMPLETED)


def plans_with_use(plans):
    """Plans annotated with `used`: their sessions booked or given."""
    return plans.annotate(used=Count("visits", filter=Q(visits__status__in=PLAN_SESSION_STATUSES)))


def plan_sessions_left(plan: TreatmentPlan) -> int:
    used = getattr(plan, "used", None)
    if used is None:
        used = plan.visits.filter(status__in=PLAN_SESSION_STATUSES).count()
    return max(plan.sessions - used, 0)


def open_plan(*, patient: Patient, appointment_type: AppointmentType) -> TreatmentPlan | None:
    """The patient's plan for this treatment with sessions still to book: the latest approved."""
    plans = plans_with_use(
        TreatmentPlan.objects.filter(patient=patient, appointment_type=appointment_type, ended_at__isnull=True)
    )
    return plans.filter(used__lt=F("sessions")).order_by("-approved_at").first()


def plan_session_starts(plan: TreatmentPlan, *, ignore_appointment_id: int | None = None) -> list[datetime]:
    """When the plan's sessions are booked or were given, for its spacing rule."""
    visits = plan.visits.filter(status__in=PLAN_SESSION_STATUSES).exclude(pk=ignore_appointment_id)
    return list(visits.values_list("start", flat=True))


def has_open_plan(patient: Patient) -> bool:
    """Whether the patient has a plan with sessions still to book, of any treatment."""
    plans = plans_with_use(TreatmentPlan.objects.filter(patient=patient, ended_at__isnull=True))
    return plans.filter(used__lt=F("sessions")).exists()


def visit_placement(
    *, appointment_type: AppointmentType, clinician_id: int, start: datetime, ignore_appointment_id: int | None = None
) -> slots.Placement:
    """Whether a visit staff place at `start` keeps to this clinician's working hours, time off and
    other visits (slots.visit_placement), from three queries: whatever the type, the clinician's own week."""
    rules = slot_rules(appointment_type)
    padded = slots.padded(start, rules)
    since, until = padded.start - BUSY_MARGIN, padded.end + BUSY_MARGIN
    hours = WorkingHours.objects.filter(clinician_id=clinician_id).values_list("weekday", "start", "end")
    time_off = TimeOff.objects.filter(clinician_id=clinician_id, start__lt=until, end__gt=since).values_list(
        "start", "end"
    )
    busy = (
        Appointment.objects.active()
        .filter(clinician_id=clinician_id, blocked_start__lt=until, blocked_end__gt=since)
        .exclude(pk=ignore_appointment_id)
        .values_list("blocked_start", "blocked_end")
    )
    return slots.visit_placement(
        start=start,
        rules=rules,
        clinic_tz=ZoneInfo(settings.CLINIC_TIME_ZONE),
        working_hours=[slots.WorkingBlock(*block) for block in hours],
        time_off=[slots.Interval(*interval) for interval in time_off],
        busy=[slots.Interval(*interval) for interval in busy],
    )


def series_gap(plan: TreatmentPlan) -> timedelta:
    """The least time between two sessions of a series: the plan's spacing, and never less than
    one visit with its recovery (a patient is in one chair at a time)."""
    kind = plan.appointment_type
    return max(timedelta(hours=plan.min_hours_between), kind.duration + timedelta(minutes=kind.recovery_minutes))


def series_proposal(*, plan: TreatmentPlan, first: plan_rules.Pick, count: int, now: datetime) -> list[plan_rules.Pick]:
    """The plan's next `count` sessions from `first` (plan_rules.propose_series) among the type's
    open times up to its booking horizon: the same queries whatever the horizon or the count."""
    kind = plan.appointment_type
    found = open_starts(
        type_slug=kind.slug,
        window_start=first[1],
        window_end=now + timedelta(days=kind.horizon_days + 1),
        now=now,
        rules=slot_rules(kind),
    )
    return plan_rules.propose_series(
        found.as_datetimes() if found else [],
        first=first,
        count=count,
        min_gap=series_gap(plan),
        booked=plan_session_starts(plan),
    )
