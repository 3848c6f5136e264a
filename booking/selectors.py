"""Reads of the booking app, each a fixed number of queries whatever the number of bookings."""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from booking import slots
from booking.models import Appointment, AppointmentType, TimeOff, WorkingHours
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
