"""The staff schedule's reads: one clinic day or week, per clinician, as plain rows the templates
show without a query. A day is the clinic's local midnight to the next local midnight (23 or 25
hours across a DST change). Four queries whatever the number of visits: the clinicians, their
working hours, their time off, and the visits with their readiness read in the same query."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from booking.models import Appointment, Clinician, TimeOff, TreatmentPlan, WorkingHours
from booking.selectors import plans_with_use
from reminders.models import Reminder, ReminderKind, ReminderStatus
from treatment.rules import rules_for

# The days staff can open: wide enough for any real visit, narrow enough that the day before and
# after, a week and the clinic's zone offset never leave what datetime can hold (year 1, 9999).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date from the address within [FIRST_DAY, LAST_DAY]; None for anything else."""
    if not ISO_DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants at which `day` starts and ends on the clinic's clock."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def clock(moment: datetime, *, zone_name: bool = False) -> str:
    """The time as staff read it, "9:05 AM", for an aware datetime in the clinic's zone; with
    `zone_name`, "9:05 AM EST" (EST or EDT rightly even in the hour a DST change repeats, where
    Django's date filter leaves the zone out)."""
    shown = moment.strftime("%I:%M %p").lstrip("0")
    return f"{shown} {moment.tzname()}" if zone_name else shown


def week_start(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


class BadgeState:
    DONE = "done"
    TO_DO = "to-do"
    ALERT = "alert"


@dataclass(frozen=True)
class Badge:
    label: str
    state: str  # BadgeState: the text says it all; the state only styles it


@dataclass(frozen=True)
class Period:
    """A stretch of a clinician's day in clinic time: working hours, a break, or time off."""

    start: datetime
    end: datetime
    kind: str  # "working", "break" or "time_off"
    reason: str = ""
    whole_day: bool = False

    is_visit: ClassVar[bool] = False

    @property
    def start_time(self) -> str:
        return clock(self.start)

    @property
    def end_time(self) -> str:
        return clock(self.end)


WORKING, BREAK, TIME_OFF = "working", "break", "time_off"


@dataclass(frozen=True)
class VisitRow:
    pk: int
    start: datetime  # in the clinic's zone
    end: datetime
    clinician_id: int
    clinician_name: str
    patient_id: int
    patient_name: str
    type_name: str
    status: str
    status_label: str
    badges: tuple[Badge, ...]
    started: bool  # the visit's start is past: it can be completed or marked a no-show
    checked_in: bool
    chartable: bool = False  # a monitored treatment session: it has a chart (treatment/rules.py)

    is_visit: ClassVar[bool] = True

    @property
    def start_time(self) -> str:
        return clock(self.start, zone_name=True)

    @property
    def end_time(self) -> str:
        """The end, naming its zone when a change of clock falls within the visit."""
        return clock(self.end, zone_name=self.end.tzname() != self.start.tzname())

    @property
    def confirmed(self) -> bool:
        return self.status == Appointment.Status.CONFIRMED

    @property
    def cancelled(self) -> bool:
        return self.status == Appointment.Status.CANCELLED

    @property
    def can_close(self) -> bool:
        """Open to "completed" or "no-show": confirmed, and its time has come."""
        return self.confirmed and self.started


@dataclass(frozen=True)
class ClinicianDay:
    clinician_id: int
    clinician_name: str
    day: date
    periods: tuple[Period, ...]  # working hours, breaks between them and time off, by start
    visits: tuple[VisitRow, ...]

    @property
    def working(self) -> tuple[Period, ...]:
        return tuple(period for period in self.periods if period.kind == WORKING)

    @property
    def time_off(self) -> tuple[Period, ...]:
        return tuple(period for period in self.periods if period.kind == TIME_OFF)

    @property
    def off_all_day(self) -> bool:
        return not self.working or any(period.whole_day for period in self.time_off)

    @property
    def agenda(self) -> list[Period | VisitRow]:
        """Periods and visits in time order (a period before the visits that start with it)."""
        entries: list[tuple[datetime, int, Period | VisitRow]] = [(p.start, 0, p) for p in self.periods]
        entries.extend((visit.start, 1, visit) for visit in self.visits)
        return [entry for _start, _order, entry in sorted(entries, key=lambda e: (e[0], e[1]))]


@dataclass(frozen=True)
class ClinicianWeek:
    clinician_id: int
    clinician_name: str
    days: tuple[ClinicianDay, ...]


@dataclass(frozen=True)
class ClinicianChoice:
    pk: int
    name: str
    active: bool


@dataclass(frozen=True)
class Schedule:
    first_day: date
    days: tuple[date, ...]
    zone: ZoneInfo
    clinicians: tuple[ClinicianWeek, ...]
    choices: tuple[ClinicianChoice, ...] = field(default=())

    @property
    def visit_count(self) -> int:
        return sum(len(day.visits) for week in self.clinicians for day in week.days)

    @property
    def any_to_close(self) -> bool:
        return any(visit.can_close for week in self.clinicians for day in week.days for visit in day.visits)


def clinician_choices() -> tuple[ClinicianChoice, ...]:
    """Every clinician, by name: the schedule's filter, and the rows it can show."""
    return tuple(
        ClinicianChoice(pk, name, active)
        for pk, name, active in Clinician.objects.order_by("name", "pk").values_list("pk", "name", "active")
    )


def schedule_read(
    *,
    first_day: date,
    days: int,
    clinician_id: int | None,
    now: datetime,
    choices: tuple[ClinicianChoice, ...] | None = None,
) -> Schedule:
    """`days` clinic days from `first_day`, one row per clinician: those taking bookings, and any
    other with a visit then (a visit never vanishes because its clinician stopped taking bookings);
    with `clinician_id`, that clinician only. `choices`: clinician_choices(), when already read."""
    zone = clinic_zone()
    wanted = [first_day + timedelta(days=n) for n in range(days)]
    since, until = day_bounds(wanted[0], zone)[0], day_bounds(wanted[-1], zone)[1]
    if choices is None:
        choices = clinician_choices()
    visits = list(_visits(since, until, clinician_id))
    with_visits = {visit.clinician_id for visit in visits}
    shown = [
        choice
        for choice in choices
        if (choice.pk == clinician_id if clinician_id is not None else choice.active or choice.pk in with_visits)
    ]
    ids = [choice.pk for choice in shown]
    hours: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for pk, weekday, opens, closes in (
        WorkingHours.objects.filter(clinician_id__in=ids)
        .order_by("start")
        .values_list("clinician_id", "weekday", "start", "end")
    ):
        hours[pk].append((weekday, opens, closes))
    time_off: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for pk, start, end, reason in (
        TimeOff.objects.filter(clinician_id__in=ids, start__lt=until, end__gt=since)
        .order_by("start")
        .values_list("clinician_id", "start", "end", "reason")
    ):
        time_off[pk].append((start, end, reason))
    periods = {
        (choice.pk, day): day_periods(day, zone, hours[choice.pk], time_off[choice.pk])
        for choice in shown
        for day in wanted
    }
    rows_by: dict[tuple[int, date], list[VisitRow]] = defaultdict(list)
    for visit in visits:
        key = (visit.clinician_id, visit.start.astimezone(zone).date())
        rows_by[key].append(visit_row(visit, zone=zone, now=now, periods=periods.get(key, ())))

    return Schedule(
        first_day=wanted[0],
        days=tuple(wanted),
        zone=zone,
        choices=choices,
        clinicians=tuple(
            ClinicianWeek(
                choice.pk,
                choice.name,
                tuple(
                    ClinicianDay(
                        choice.pk,
                        choice.name,
                        day,
                        periods[(choice.pk, day)],
                        tuple(rows_by[(choice.pk, day)]),
                    )
                    for day in wanted
                ),
            )
            for choice in shown
        ),
    )


def _visits(since: datetime, until: datetime, clinician_id: int | None) -> QuerySet[Appointment]:
    """The visits starting in [since, until), with what their badges need, in one query. The
    screening's answers and scores are never read: the front desk sees this page too."""
    visits = (
        Appointment.objects.filter(start__gte=since, start__lt=until)
        .select_related("patient", "clinician", "appointment_type", "screening")
        .only(
            "start",
            "end",
            "status",
            "checked_in_at",
            "ride_confirmed_at",
            "treatment_plan_id",
            "patient__full_name",
            "patient__rems_enrolled_on",
            "clinician__name",
            "appointment_type__name",
            "appointment_type__slug",
            "appointment_type__ride_home_required",
            "appointment_type__needs_approval",
            "screening__urgent",
            "screening__reviewed_at",
        )
        .annotate(
            preparation_status=Subquery(
                Reminder.objects.filter(appointment=OuterRef("pk"), kind=ReminderKind.PREPARATION).values("status")[:1]
            ),
            # What selectors.open_plan finds, for every visit at once: not ended, sessions left.
            open_plan=Exists(
                plans_with_use(
                    TreatmentPlan.objects.filter(
                        patient=OuterRef("patient"),
                        appointment_type=OuterRef("appointment_type"),
                        ended_at__isnull=True,
                    )
                ).filter(used__lt=F("sessions"))
            ),
        )
        .order_by("start", "pk")
    )
    return visits.filter(clinician_id=clinician_id) if clinician_id is not None else visits


def visit_row(visit: Appointment, *, zone: ZoneInfo, now: datetime, periods: Iterable[Period] = ()) -> VisitRow:
    badges: tuple[Badge, ...] = ()
    if visit.status != Appointment.Status.CANCELLED:
        badges = (*_hours_badges(visit, list(periods)), *_badges(visit, zone))
    return VisitRow(
        pk=visit.pk,
        start=visit.start.astimezone(zone),
        end=visit.end.astimezone(zone),
        clinician_id=visit.clinician_id,
        clinician_name=visit.clinician.name,
        patient_id=visit.patient_id,
        patient_name=visit.patient.full_name,
        type_name=visit.appointment_type.name,
        status=visit.status,
        status_label=str(visit.get_status_display()),
        badges=badges,
        started=visit.start <= now,
        checked_in=visit.checked_in_at is not None,
        chartable=rules_for(visit.appointment_type.slug) is not None,
    )


def _badges(visit: Appointment, zone: ZoneInfo) -> Iterable[Badge]:
    """What is ready for the visit and what is not, each in words."""
    screening = visit.screening
    if screening is not None:
        if screening.urgent:
            yield Badge(_("Screening urgent"), BadgeState.ALERT)
        if screening.reviewed_at:
            yield Badge(_("Screening reviewed"), BadgeState.DONE)
        else:
            yield Badge(_("Screening not reviewed"), BadgeState.TO_DO)
    kind = visit.appointment_type
    if kind.needs_approval:
        if visit.treatment_plan_id or getattr(visit, "open_plan", False):
            yield Badge(_("Plan approved"), BadgeState.DONE)
        else:
            yield Badge(_("No approved plan"), BadgeState.ALERT)
    chart_rules = rules_for(kind.slug)
    if chart_rules is not None and chart_rules.rems:
        if visit.patient.rems_enrolled_on:
            yield Badge(_("REMS enrolled"), BadgeState.DONE)
        else:
            yield Badge(_("REMS enrollment not recorded"), BadgeState.ALERT)
    preparation = getattr(visit, "preparation_status", None)
    if preparation == ReminderStatus.SENT:
        yield Badge(_("Preparation reminder sent"), BadgeState.DONE)
    elif preparation == ReminderStatus.FAILED:
        yield Badge(_("Preparation reminder failed"), BadgeState.ALERT)
    elif preparation is not None and preparation != ReminderStatus.CANCELLED:
        yield Badge(_("Preparation reminder not sent yet"), BadgeState.TO_DO)
    if kind.ride_home_required:
        if visit.ride_confirmed_at:
            yield Badge(_("Ride home confirmed"), BadgeState.DONE)
        else:
            yield Badge(_("Ride home not confirmed"), BadgeState.TO_DO)
    if visit.checked_in_at:
        yield Badge(_("Checked in %(time)s") % {"time": clock(visit.checked_in_at.astimezone(zone))}, BadgeState.DONE)
    elif visit.status == Appointment.Status.CONFIRMED:
        yield Badge(_("Not checked in"), BadgeState.TO_DO)


def day_periods(
    day: date,
    zone: ZoneInfo,
    hours: Iterable[tuple[int, time, time]],
    time_off: Iterable[tuple[datetime, datetime, str]],
) -> tuple[Period, ...]:
    """The clinician's working blocks on `day` (weekly hours: (weekday, start, end) in clinic
    time), the breaks between them, and the time off that overlaps the day, cut to the day."""
    day_start, day_end = day_bounds(day, zone)
    blocks = sorted(
        (datetime.combine(day, start, tzinfo=zone), datetime.combine(day, end, tzinfo=zone))
        for weekday, start, end in hours
        if weekday == day.weekday()
    )
    periods = [Period(start, end, WORKING) for start, end in blocks]
    periods.extend(
        Period(previous_end, next_start, BREAK)
        for (_s, previous_end), (next_start, _e) in zip(blocks, blocks[1:], strict=False)
        if next_start > previous_end
    )
    for start, end, reason in time_off:
        start, end = max(start, day_start), min(end, day_end)
        if start < end:
            periods.append(
                Period(
                    start.astimezone(zone),
                    end.astimezone(zone),
                    TIME_OFF,
                    reason,
                    whole_day=start == day_start and end == day_end,
                )
            )
    return tuple(sorted(periods, key=lambda period: (period.start, period.kind != TIME_OFF)))


def _hours_badges(visit: Appointment, periods: list[Period]) -> Iterable[Badge]:
    """A visit outside its clinician's working hours, or in their time off, says so."""
    start, end = visit.start, visit.end
    if any(p.kind == TIME_OFF and p.start < end and start < p.end for p in periods):
        yield Badge(_("During time off"), BadgeState.ALERT)
    if not any(p.kind == WORKING and p.start <= start and end <= p.end for p in periods):
        yield Badge(_("Outside working hours"), BadgeState.ALERT)


@dataclass(frozen=True)
class ExportRow:
    """One visit as the managers' CSV shows it: when, who, what and how it went; nothing clinical
    (no screening, answers, scores, flags), no token, no video room."""

    pk: int
    start: datetime  # in the clinic's zone
    clinician_name: str
    type_name: str
    status_label: str
    patient_id: int
    patient_name: str
    checked_in_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str

    def cells(self) -> list[object]:
        zone = self.start.tzinfo

        def stamp(value: datetime | None) -> str:
            return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

        return [
            self.pk,
            self.start.strftime("%Y-%m-%d"),
            self.start.strftime("%H:%M"),
            self.start.strftime("%Z"),
            self.clinician_name,
            self.type_name,
            self.status_label,
            self.patient_id,
            self.patient_name,
            stamp(self.checked_in_at),
            stamp(self.cancelled_at),
            self.cancel_reason,
        ]


def export_rows(*, first_day: date, last_day: date) -> list[ExportRow]:
    """The visits starting on the clinic days first_day..last_day (both included), by start; one query."""
    zone = clinic_zone()
    since, until = day_bounds(first_day, zone)[0], day_bounds(last_day, zone)[1]
    labels = dict(Appointment.Status.choices)
    visits = (
        Appointment.objects.filter(start__gte=since, start__lt=until)
        .order_by("start", "pk")
        .values_list(
            "pk",
            "start",
            "clinician__name",
            "appointment_type__name",
            "status",
            "patient_id",
            "patient__full_name",
            "checked_in_at",
            "cancelled_at",
            "cancel_reason",
        )
    )
    return [
        ExportRow(pk, start.astimezone(zone), clinician, kind, str(labels.get(status, status)), *rest)
        for pk, start, clinician, kind, status, *rest in visits
    ]
