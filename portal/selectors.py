"""What the portal shows a signed-in patient: a fixed number of queries whatever the number of
visits, plans or scores (one per kind of thing)."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from booking import selectors as booking_selectors
from booking import services as booking_services
from booking.models import Appointment, AppointmentType, Patient, TreatmentPlan
from portal.services import patient_records
from reminders.preparation import fasting_sentence, fasting_times
from screening.models import Outcome, Screening
from telemed.timezones import zone_label
from treatment import trend
from treatment.measurements import (
    INSTRUMENTS,
    MEASUREMENT_FIELDS,
    TrendView,
    check_in_answered,
    check_in_open,
    check_in_opens,
    is_treatment,
    measurement_points,
    screening_points,
    trend_view,
)
from treatment.models import Measurement

# What a screening result shows the patient: never the review's note or decision.
SCREENING_FIELDS = (
    "token",
    "submitted_at",
    "outcome",
    "clinical_outcome",
    "urgent",
    "reasons",
    "phq9_total",
    "phq9_band",
    "gad7_total",
    "gad7_band",
    "pcl5_total",
)


@dataclass(frozen=True)
class Visit:
    appointment: Appointment
    local_start: datetime
    local_end: datetime
    zone_label: str
    can_change: bool
    deadline: datetime
    upcoming: bool
    preparation: str  # the fasting cut-offs in the visit's clock time; "" when none
    ride_needed: bool  # a ride home is required and not confirmed yet
    check_in: str  # "open", "done", "later" or "" (not a treatment ahead)
    check_in_opens: datetime | None


@dataclass(frozen=True)
class Plan:
    plan: TreatmentPlan
    sessions_left: int


@dataclass(frozen=True)
class ScreeningResult:
    screening: Screening
    review_reasons: list[dict]
    not_suitable_reasons: list[dict]
    link_open: bool  # its own result page still opens


@dataclass(frozen=True)
class Overview:
    upcoming: list[Visit]
    past: list[Visit]
    plans: list[Plan]
    screenings: list[ScreeningResult]
    trend: TrendView | None
    follow_up: AppointmentType | None


def _visit(appointment: Appointment, kept: list[Measurement], now: datetime) -> Visit:
    zone = ZoneInfo(appointment.time_zone)
    kind = appointment.appointment_type
    local_start = appointment.start.astimezone(zone)
    upcoming = appointment.status == Appointment.Status.CONFIRMED and appointment.end > now
    preparation = ""
    check_in, opens = "", None
    if upcoming:
        fasting = fasting_times(
            start=appointment.start,
            time_zone=appointment.time_zone,
            food_minutes=kind.fasting_food_minutes,
            liquids_minutes=kind.fasting_liquids_minutes,
        )
        preparation = fasting_sentence(fasting, start_local=local_start)
        if is_treatment(appointment) and now < appointment.start:
            opens = check_in_opens(appointment).astimezone(zone)
            if len(check_in_answered(kept, appointment)) == len(INSTRUMENTS):
                check_in = "done"
            else:
                check_in = "open" if check_in_open(appointment, now=now) else "later"
    return Visit(
        appointment=appointment,
        local_start=local_start,
        local_end=appointment.end.astimezone(zone),
        zone_label=zone_label(appointment.time_zone),
        can_change=booking_services.can_change(appointment, now=now),
        deadline=booking_services.change_deadline(appointment).astimezone(zone),
        upcoming=upcoming,
        preparation=preparation,
        ride_needed=upcoming and kind.ride_home_required and appointment.ride_confirmed_at is None,
        check_in=check_in,
        check_in_opens=opens,
    )


def follow_up_type() -> AppointmentType | None:
    """The visit a patient books again without a new screening or a plan (the follow-up)."""
    return AppointmentType.objects.filter(active=True, needs_approval=False, requires_screening=False).first()


def overview(patient: Patient, *, now: datetime | None = None) -> Overview:
    """Everything of every record the patient's address reaches (portal.services.patient_records)."""
    now = now or timezone.now()
    ids = list(patient_records(patient).values_list("pk", flat=True))
    kept = list(Measurement.objects.filter(patient_id__in=ids).only(*MEASUREMENT_FIELDS))
    appointments = Appointment.objects.filter(patient_id__in=ids).select_related("appointment_type", "clinician")
    visits = [_visit(appointment, kept, now) for appointment in appointments.order_by("start", "pk")]
    plans = booking_selectors.plans_with_use(
        TreatmentPlan.objects.filter(patient_id__in=ids, ended_at__isnull=True).select_related("appointment_type")
    )
    screenings = list(
        Screening.objects.submitted()
        .filter(
            Q(pk__in=Appointment.objects.filter(patient_id__in=ids).values("screening_id"))
            | Q(pk__in=TreatmentPlan.objects.filter(patient_id__in=ids).values("screening_id"))
        )
        .only(*SCREENING_FIELDS)
        .order_by("-submitted_at")
    )
    points = trend.marked([*screening_points(screenings), *measurement_points(kept)])
    zone = ZoneInfo(visits[-1].appointment.time_zone if visits else settings.CLINIC_TIME_ZONE)
    return Overview(
        upcoming=[visit for visit in visits if visit.upcoming],
        past=[visit for visit in reversed(visits) if not visit.upcoming],
        plans=[
            Plan(plan=plan, sessions_left=booking_selectors.plan_sessions_left(plan))
            for plan in plans.order_by("-approved_at")
        ],
        screenings=[
            ScreeningResult(
                screening=screening,
                review_reasons=[reason for reason in screening.reasons if reason.get("outcome") == Outcome.REVIEW],
                not_suitable_reasons=[
                    reason for reason in screening.reasons if reason.get("outcome") == Outcome.NOT_SUITABLE
                ],
                link_open=screening.result_expires_at is not None and screening.result_expires_at > now,
            )
            for screening in screenings
        ],
        trend=trend_view(points, zone=zone) if points else None,
        follow_up=follow_up_type(),
    )


def own_visit(patient: Patient, pk: int) -> Appointment | None:
    """A visit of the patient's records, or None (another patient's is nobody's here)."""
    return (
        Appointment.objects.filter(pk=pk, patient__in=patient_records(patient))
        .select_related("appointment_type", "clinician", "patient")
        .first()
    )


def own_plan(patient: Patient, pk: int) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(pk=pk, patient__in=patient_records(patient), ended_at__isnull=True)
        .select_related("patient")
        .first()
    )
