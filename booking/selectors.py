"""Reads of the booking app, each a fixed number of queries whatever the number of bookings."""

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from booking import slots
from booking.models import Appointment, AppointmentType, TimeOff, WorkingHours
from screening.models import Screening
from telemed.prepared import Prepared

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
    """Every open start time of this type in the window, for each clinician who offers it, with this object's rules.
    One query on PostgreSQL (see open_starts)."""
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
    """One appointment type as staff set it up: its rules and who gives it when. Kept per process (see open_starts)."""

    fingerprint: str
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
    schedule, busy = _schedule_and_busy(
        type_slug, clinician_id, window_start - BUSY_MARGIN, window_end + BUSY_MARGIN, ignore_appointment_id
    )
    if schedule is None:
        return None
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


# On PostgreSQL one hand-written query reads everything a slot request needs: it runs on every request, and the
# ORM work of building three querysets cost more than running them (bench/README.md). The type's schedule (its
# rules, its clinicians and their working hours) changes rarely, so each process keeps it and the query sends
# only its md5 unless it differs from the one the process holds: a change made by staff is seen by the next
# request in every process, with no invalidation to get wrong. Busy times and time off are read every time, as
# microseconds since the epoch, in the same snapshot as the schedule.
SLOTS_SQL = """
WITH kind AS (
    SELECT id, active, duration_minutes, step_minutes, buffer_before_minutes, buffer_after_minutes,
           recovery_minutes, min_notice_hours, horizon_days
      FROM booking_appointmenttype
     WHERE slug = %(slug)s
), hours AS (
    SELECT hours.clinician_id, clinician.name, hours.weekday, hours.start, hours."end"
      FROM kind
      JOIN booking_clinician_appointment_types offered ON offered.appointmenttype_id = kind.id
      JOIN booking_clinician clinician ON clinician.id = offered.clinician_id AND clinician.active
      JOIN booking_workinghours hours ON hours.clinician_id = clinician.id
), schedule AS MATERIALIZED (
    SELECT json_build_object(
        'kind', (SELECT row_to_json(kind) FROM kind),
        'hours', (SELECT json_agg(json_build_array(clinician_id, name, weekday, start, "end")
                                  ORDER BY clinician_id, weekday, start, "end") FROM hours)
    )::text AS doc
), wanted AS (
    SELECT DISTINCT clinician_id FROM hours WHERE %(clinician)s::bigint IS NULL OR clinician_id = %(clinician)s
), busy AS (
    SELECT clinician_id, blocked_start AS start, blocked_end AS "end"
      FROM booking_appointment
     WHERE clinician_id IN (SELECT clinician_id FROM wanted) AND status <> 'cancelled'
       AND blocked_start < %(until)s AND blocked_end > %(since)s AND id <> %(ignore)s
    UNION ALL
    SELECT clinician_id, start, "end"
      FROM booking_timeoff
     WHERE clinician_id IN (SELECT clinician_id FROM wanted) AND start < %(until)s AND "end" > %(since)s
)
SELECT fingerprint, CASE WHEN fingerprint = %(known)s THEN NULL ELSE doc END, (
    SELECT json_object_agg(clinician_id, spans) FROM (
        SELECT clinician_id, json_agg(json_build_array(
            (EXTRACT(EPOCH FROM start) * 1000000)::bigint, (EXTRACT(EPOCH FROM "end") * 1000000)::bigint)) AS spans
          FROM busy GROUP BY clinician_id
    ) AS per_clinician
)::text
  FROM (SELECT md5(doc) AS fingerprint, doc FROM schedule) AS schedule
"""
# Planning that query took as long as running it: each database connection prepares it once.
SLOTS_STATEMENT = Prepared(
    name="booking_open_slots",
    sql=SLOTS_SQL,
    parameters=(
        ("slug", "text"),
        ("clinician", "bigint"),
        ("since", "timestamptz"),
        ("until", "timestamptz"),
        ("ignore", "bigint"),
        ("known", "text"),
    ),
)


SCHEDULES_KEPT = 100  # types per process; there are a handful
_schedules: dict[str, TypeSchedule] = {}


def _schedule_and_busy(
    type_slug: str, clinician_id: int | None, since: datetime, until: datetime, ignore_appointment_id: int | None
) -> tuple[TypeSchedule | None, dict[int, list]]:
    """The type's schedule, and the (start, end) in microseconds of each clinician's bookings (with their buffers)
    and time off."""
    if connection.vendor != "postgresql":
        return _schedule_and_busy_orm(type_slug, clinician_id, since, until, ignore_appointment_id)
    known = _schedules.get(type_slug)
    params = {
        "slug": type_slug,
        "clinician": clinician_id,
        "since": since,
        "until": until,
        "ignore": ignore_appointment_id or 0,
        "known": known.fingerprint if known else "",
    }
    with connection.cursor() as cursor:
        SLOTS_STATEMENT.execute(cursor, params)
        fingerprint, doc, busy = cursor.fetchone()
    if doc is not None:
        document = json.loads(doc)
        if document["kind"] is None:
            return None, {}
        hours = (
            (clinician, name, weekday, time.fromisoformat(start), time.fromisoformat(end))
            for clinician, name, weekday, start, end in document["hours"] or ()
        )
        known = _schedule(fingerprint, type_slug, document["kind"], hours)
        if len(_schedules) >= SCHEDULES_KEPT:
            _schedules.clear()
        _schedules[type_slug] = known
    return known, {int(clinician): spans for clinician, spans in json.loads(busy or "{}").items()}


def _schedule(fingerprint: str, slug: str, kind: Mapping[str, Any], hours) -> TypeSchedule:
    """A TypeSchedule from the type's row and rows of (clinician id, name, weekday, start, end) of working hours."""
    blocks, names = defaultdict(list), {}
    for clinician, name, weekday, start, end in hours:
        blocks[clinician].append(slots.WorkingBlock(weekday, start, end))
        names[clinician] = name
    return TypeSchedule(
        fingerprint=fingerprint,
        slug=slug,
        active=kind["active"],
        duration_minutes=kind["duration_minutes"],
        rules=slot_rules(AppointmentType(**kind)),
        clinicians={clinician: ClinicianHours(names[clinician], tuple(blocks[clinician])) for clinician in blocks},
    )


def _schedule_and_busy_orm(
    type_slug: str, clinician_id: int | None, since: datetime, until: datetime, ignore_appointment_id: int | None
) -> tuple[TypeSchedule | None, dict[int, list]]:
    """The same read through the ORM, uncached, for SQLite (development)."""
    kind = AppointmentType.objects.filter(slug=type_slug).values().first()
    if kind is None:
        return None, {}
    hours = (
        WorkingHours.objects.filter(clinician__active=True, clinician__appointment_types=kind["id"])
        .values_list("clinician_id", "clinician__name", "weekday", "start", "end")
        .order_by()
    )
    schedule = _schedule("", type_slug, kind, hours)
    wanted = [clinician for clinician in schedule.clinicians if clinician_id in (None, clinician)]
    appointments = (
        Appointment.objects.active()
        .filter(clinician_id__in=wanted, blocked_start__lt=until, blocked_end__gt=since)
        .exclude(pk=ignore_appointment_id)
        .values_list("clinician_id", "blocked_start", "blocked_end")
        .order_by()
    )
    time_off = (
        TimeOff.objects.filter(clinician_id__in=wanted, start__lt=until, end__gt=since)
        .values_list("clinician_id", "start", "end")
        .order_by()
    )
    busy = defaultdict(list)
    for clinician, start, end in appointments.union(time_off, all=True):
        busy[clinician].append((slots.micros(start), slots.micros(end)))
    return schedule, busy


def rebook_query(appointment: Appointment) -> dict[str, str]:
    """The booking page's query to book again after a cancel: a consultation needs the screening it
    was booked from (only its token is read: its answers have no business here), others the patient."""
    token = (
        Screening.objects.filter(pk=appointment.screening_id).values_list("token", flat=True).first()
        if appointment.screening_id
        else None
    )
    return {"screening": token} if token else {"patient": appointment.patient.booking_token}
