"""Reads of the booking app, each a fixed number of queries whatever the number of bookings."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from booking import slots
from booking.models import Appointment, AppointmentType, TimeOff, WorkingHours

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
    """Every open start time of this type in the window, for each clinician who offers it. Two queries."""
    blocks, names = defaultdict(list), {}
    for clinician, name, weekday, start, end in _working_hours(appointment_type, clinician_id):
        blocks[clinician].append(slots.WorkingBlock(weekday=weekday, start=start, end=end))
        names[clinician] = name
    if not blocks:
        return []
    busy = defaultdict(list)
    for clinician, start, end in _busy(
        list(blocks), window_start - BUSY_MARGIN, window_end + BUSY_MARGIN, ignore_appointment_id
    ):
        busy[clinician].append(slots.Interval(start, end))

    rules, clinic_tz = slot_rules(appointment_type), ZoneInfo(settings.CLINIC_TIME_ZONE)
    found = []
    for clinician, working_hours in blocks.items():
        for start in slots.open_slots(
            rules=rules,
            clinic_tz=clinic_tz,
            working_hours=working_hours,
            time_off=(),
            busy=busy[clinician],
            window_start=window_start,
            window_end=window_end,
            now=now,
        ):
            found.append(OpenSlot(start, start + rules.duration, clinician, names[clinician]))
    found.sort(key=lambda slot: (slot.start, slot.clinician_name))
    return found


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


def _working_hours(appointment_type: AppointmentType, clinician_id: int | None):
    hours = WorkingHours.objects.filter(clinician__active=True, clinician__appointment_types=appointment_type)
    if clinician_id is not None:
        hours = hours.filter(clinician_id=clinician_id)
    return hours.values_list("clinician_id", "clinician__name", "weekday", "start", "end").order_by()


# On PostgreSQL the busy times are read with one hand-written query: this read runs on every
# slot request, and building the equivalent ORM union cost more than running it (bench/README.md).
BUSY_SQL = """
SELECT clinician_id, EXTRACT(EPOCH FROM blocked_start)::float8, EXTRACT(EPOCH FROM blocked_end)::float8
  FROM booking_appointment
 WHERE clinician_id = ANY(%(clinicians)s) AND status <> 'cancelled'
   AND blocked_start < %(until)s AND blocked_end > %(since)s AND id <> %(ignore)s
UNION ALL
SELECT clinician_id, EXTRACT(EPOCH FROM start)::float8, EXTRACT(EPOCH FROM "end")::float8
  FROM booking_timeoff
 WHERE clinician_id = ANY(%(clinicians)s) AND start < %(until)s AND "end" > %(since)s
"""


def _busy(clinicians: list[int], since: datetime, until: datetime, ignore_appointment_id: int | None):
    """(clinician id, start, end) of every active booking (with its buffers) and time off in the period."""
    if connection.vendor == "postgresql":
        params = {"clinicians": clinicians, "since": since, "until": until, "ignore": ignore_appointment_id or 0}
        with connection.cursor() as cursor:
            cursor.execute(BUSY_SQL, params)
            from_epoch = datetime.fromtimestamp
            return [(row[0], from_epoch(row[1], UTC), from_epoch(row[2], UTC)) for row in cursor.fetchall()]
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
    return list(appointments.union(time_off, all=True))
