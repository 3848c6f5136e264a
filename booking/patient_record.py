"""What the admin's patient page shows of one patient, read in a fixed number of queries whatever
the number of visits, screenings, plans and notes (templates never query).

A screening belongs to the record only through the patient's own visits or treatment plans: a
screening that merely carries the same e-mail may be a stranger's (anonymous input), so it is
never matched by address."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from booking import selectors
from booking.models import Appointment, Patient, PatientNote, TreatmentPlan
from screening.models import Screening
from staff.mixins import clinic_time
from treatment.measurements import TrendView, measurement_points, patient_measurements, screening_points, trend_view
from treatment.trend import marked

# What every staff member with the record sees of a screening (the front desk: outcome and urgent).
SCREENING_FIELDS = [
    "submitted_at",
    "created_at",
    "outcome",
    "clinical_outcome",
    "urgent",
    "reviewed_at",
    "reviewed_by",
    "review_decision",
]
# Scores: only for staff allowed a screening's answers (never loaded for the others).
SCORE_FIELDS = ["phq9_total", "phq9_band", "gad7_total", "gad7_band", "pcl5_total", "pcl5_positive"]


@dataclass(frozen=True)
class VisitRow:
    visit: Appointment
    start: str  # clinic time, with the zone's abbreviation


@dataclass(frozen=True)
class VisitCounts:
    upcoming: int
    completed: int
    no_shows: int
    cancelled: int


@dataclass(frozen=True)
class PlanRow:
    plan: TreatmentPlan
    sessions_left: int
    approved_by: str
    approved_at: str
    ended_at: str


@dataclass(frozen=True)
class ScreeningRow:
    screening: Screening
    submitted_at: str
    reviewed_by: str
    reviewed_at: str


@dataclass(frozen=True)
class NoteRow:
    note: PatientNote
    author: str
    written_at: str


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    screenings: list[ScreeningRow]
    upcoming: list[VisitRow]
    past: list[VisitRow]
    counts: VisitCounts
    plans: list[PlanRow]
    notes: list[NoteRow]
    rems_recorded_by: str = ""  # who recorded the SPRAVATO REMS enrollment, and when (clinic time)
    rems_recorded_at: str = ""
    trend: TrendView | None = None  # the scores over time, only `with_trend`


def record_patient(patient_id: int) -> Patient | None:
    """The patient, without the booking link's token (whoever holds it can act as the patient)."""
    return Patient.objects.defer("booking_token").select_related("rems_recorded_by").filter(pk=patient_id).first()


def patient_record(*, patient: Patient, with_scores: bool, now: datetime, with_trend: bool = False) -> PatientRecord:
    """The patient's screenings, visits (past and future, counted), treatment plans and staff
    notes; screening scores only `with_scores`; the trend of scores (those of the screenings
    only `with_scores` too) only `with_trend`."""
    visits = list(
        Appointment.objects.filter(patient=patient)
        .defer("token", "request_key", "video_room")
        .select_related("appointment_type", "clinician")
        .order_by("start")
    )
    plans = list(
        selectors.plans_with_use(TreatmentPlan.objects.filter(patient=patient))
        .select_related("appointment_type", "approved_by")
        .order_by("-approved_at")
    )
    screening_ids = {visit.screening_id for visit in visits} | {plan.screening_id for plan in plans}
    screening_ids.discard(None)
    screenings = list(
        Screening.objects.filter(pk__in=screening_ids)
        .only(*SCREENING_FIELDS, *(SCORE_FIELDS if with_scores else []))
        .select_related("reviewed_by")
        .order_by("-submitted_at", "-created_at")
    )
    notes = list(patient.notes.select_related("author").order_by("-created_at", "-pk"))
    trend = None
    if with_trend:
        points = marked(
            [
                *(screening_points(screenings) if with_scores else []),
                *measurement_points(patient_measurements(patient)),
            ]
        )
        trend = trend_view(points, zone=ZoneInfo(settings.CLINIC_TIME_ZONE))
    upcoming = [visit for visit in visits if visit.start >= now]
    past = [visit for visit in reversed(visits) if visit.start < now]
    return PatientRecord(
        patient=patient,
        screenings=[
            ScreeningRow(
                screening,
                clinic_time(screening.submitted_at),
                staff_name(screening.reviewed_by) if screening.reviewed_at else "",
                clinic_time(screening.reviewed_at),
            )
            for screening in screenings
        ],
        upcoming=[VisitRow(visit, clinic_time(visit.start)) for visit in upcoming],
        past=[VisitRow(visit, clinic_time(visit.start)) for visit in past],
        counts=VisitCounts(
            upcoming=sum(visit.status == Appointment.Status.CONFIRMED for visit in upcoming),
            completed=sum(visit.status == Appointment.Status.COMPLETED for visit in visits),
            no_shows=sum(visit.status == Appointment.Status.NO_SHOW for visit in visits),
            cancelled=sum(visit.status == Appointment.Status.CANCELLED for visit in visits),
        ),
        plans=[
            PlanRow(
                plan,
                selectors.plan_sessions_left(plan),
                staff_name(plan.approved_by),
                clinic_time(plan.approved_at),
                clinic_time(plan.ended_at),
            )
            for plan in plans
        ],
        notes=[NoteRow(note, staff_name(note.author), clinic_time(note.created_at)) for note in notes],
        rems_recorded_by=staff_name(patient.rems_recorded_by) if patient.rems_recorded_at else "",
        rems_recorded_at=clinic_time(patient.rems_recorded_at) if patient.rems_recorded_at else "",
        trend=trend,
    )


def staff_name(user) -> str:
    """How a colleague is named on the page: their full name, else their user name; "—" when gone."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()
