"""The SPRAVATO REMS Patient Monitoring Form (outpatient) of each signed esketamine session: its
data read from the chart, when it is due (7 days after the session) and its submission.

`monitoring_form` reads a SessionRecord loaded by `rems_records()` (its visit, patient, signer
and, prefetched, its observations and adverse events) and queries nothing; the choices it makes
(which blood pressure is "about 40 minutes", what counts as a sedation event) are the pure
functions below. The form's fields are those of the REMS form, in its order; the sex it asks for
is not recorded by this clinic and is filled in by hand."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from staff.audit import acting_as
from telemed.people import person_name
from treatment import rules
from treatment.models import AdverseEvent, Observation, SessionRecord

if TYPE_CHECKING:
    from booking.models import Appointment

# The label's blood pressure check "approximately 40 minutes" after administration.
BP_RECHECK_TARGET_MINUTES = 40
LISTED_DOSES_MG = (Decimal(56), Decimal(84))


def rems_slugs() -> list[str]:
    """The appointment types given under the REMS (their chart rules say so)."""
    return [slug for slug, chart_rules in rules.RULES.items() if chart_rules.rems]


def rems_records() -> QuerySet[SessionRecord]:
    """Every signed esketamine session, with all a monitoring form reads (no token of a visit or patient)."""
    return (
        SessionRecord.objects.filter(signed_at__isnull=False, appointment__appointment_type__slug__in=rems_slugs())
        .select_related("appointment__patient", "appointment__appointment_type", "signed_by", "rems_submitted_by")
        .defer(
            "appointment__token",
            "appointment__request_key",
            "appointment__video_room",
            "appointment__patient__booking_token",
        )
        .prefetch_related("observations", "adverse_events")
    )


# How far back a past esketamine session without a signed chart is still listed (its form long overdue).
UNSIGNED_LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class UnsignedSession:
    """A past esketamine session whose chart is missing or not signed: its form cannot be made yet,
    and its deadline runs all the same."""

    visit: "Appointment"
    has_chart: bool
    due_on: date

    @property
    def days_left(self) -> int:
        return (self.due_on - clinic_today()).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def unsigned_sessions(*, now: datetime | None = None) -> list[UnsignedSession]:
    """Esketamine sessions that have begun (not cancelled, not a no-show) in the last
    UNSIGNED_LOOKBACK_DAYS whose chart is missing or unsigned, nearest deadline first (one query)."""
    from booking.models import Appointment

    now = now or timezone.now()
    zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    signed = SessionRecord.objects.filter(appointment=OuterRef("pk"), signed_at__isnull=False)
    visits = (
        Appointment.objects.filter(
            appointment_type__slug__in=rems_slugs(),
            status__in=[Appointment.Status.CONFIRMED, Appointment.Status.COMPLETED],
            start__lte=now,
            start__gte=now - timedelta(days=UNSIGNED_LOOKBACK_DAYS),
        )
        .exclude(Exists(signed))
        .annotate(has_chart=Exists(SessionRecord.objects.filter(appointment=OuterRef("pk"))))
        .select_related("patient", "clinician")
        .only("start", "status", "patient__full_name", "clinician__name")
        .order_by("start", "pk")
    )
    days = max(rule.rems_form_days for rule in rules.RULES.values() if rule.rems)
    return [
        UnsignedSession(
            visit=visit,
            has_chart=visit.has_chart,
            due_on=timezone.localdate(visit.start, zone) + timedelta(days=days),
        )
        for visit in visits
    ]


# --- The pure choices ------------------------------------------------------------------------


def split_name(full_name: str) -> tuple[str, str]:
    """(first names, last name) of a name typed in one field: the last word is the last name."""
    words = person_name(full_name).rsplit(" ", 1)
    return (words[0], words[1]) if len(words) == 2 else (words[0], "")


def dose_choice(dose_mg: Decimal | None) -> tuple[str, Decimal | None]:
    """The form's dose box ("56 mg", "84 mg" or "Other") and the other dose in mg."""
    if dose_mg is None:
        return "", None
    if dose_mg in LISTED_DOSES_MG:
        return f"{dose_mg.normalize():f} mg", None
    return "Other", dose_mg


def with_bp(readings: Sequence[rules.Reading]) -> list[rules.Reading]:
    return sorted((r for r in readings if r.systolic is not None and r.diastolic is not None), key=lambda r: r.at)


def last_at_or_before(readings: Sequence[rules.Reading], moment: datetime) -> rules.Reading | None:
    taken = [r for r in sorted(readings, key=lambda r: r.at) if r.at <= moment]
    return taken[-1] if taken else None


def bp_before_administration(readings: Sequence[rules.Reading], first_at: datetime) -> rules.Reading | None:
    return last_at_or_before(with_bp(readings), first_at)


def bp_recheck(readings: Sequence[rules.Reading], first_at: datetime, window: tuple[int, int]) -> rules.Reading | None:
    """The blood pressure nearest 40 minutes after the first administration, within the type's window."""
    low, high = (first_at + timedelta(minutes=minutes) for minutes in window)
    target = first_at + timedelta(minutes=BP_RECHECK_TARGET_MINUTES)
    inside = [r for r in with_bp(readings) if low <= r.at <= high]
    return min(inside, key=lambda r: (abs(r.at - target), r.at)) if inside else None


def bp_at_end(readings: Sequence[rules.Reading], first_at: datetime, end: datetime) -> rules.Reading | None:
    """The last blood pressure after the first administration and not after the session's end."""
    after = [r for r in with_bp(readings) if first_at < r.at <= end]
    return after[-1] if after else None


def in_range(limits: rules.Limits, reading: rules.Reading | None) -> bool | None:
    return None if reading is None else rules.within_limits(limits, reading)


def sedation_event(sedation_scores: Sequence[int | None], event_kinds: Sequence[str]) -> bool:
    """Any MOAA/S below fully alert, or an adverse event of sedation."""
    return any(s is not None and s < rules.MOAA_S_ALERT for s in sedation_scores) or (
        AdverseEvent.Kind.SEDATION in event_kinds
    )


def dissociation_event(dissociation_scores: Sequence[int | None], event_kinds: Sequence[str]) -> bool:
    return any(d is not None and d > 0 for d in dissociation_scores) or AdverseEvent.Kind.DISSOCIATION in event_kinds


def respiratory_event(limits: rules.Limits, spo2: Sequence[int | None], event_kinds: Sequence[str]) -> bool:
    """An SpO2 below the type's limit, or an adverse event of respiratory depression."""
    return any(s is not None and s < limits.spo2_min for s in spo2) or AdverseEvent.Kind.RESPIRATORY in event_kinds


# --- The form -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BloodPressure:
    systolic: int
    diastolic: int
    at: datetime

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


def _bp(reading: rules.Reading | None) -> BloodPressure | None:
    if reading is None or reading.systolic is None or reading.diastolic is None:
        return None
    return BloodPressure(reading.systolic, reading.diastolic, reading.at)


class Status:
    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class MonitoringForm:
    record: SessionRecord
    # Patient information.
    patient_first_name: str
    patient_last_name: str
    date_of_birth: date | None
    # Concomitant medication (None: not asked at check-in).
    benzodiazepines: bool | None
    sedative_hypnotics: bool | None
    psychostimulants: bool | None
    maois: bool | None
    # Healthcare provider conducting patient monitoring: who signed the chart.
    provider_first_name: str
    provider_last_name: str
    provider_phone: str
    provider_email: str
    # Healthcare setting.
    setting_name: str
    setting_address: str
    # Treatment session.
    treatment_date: date
    dose: str  # "56 mg", "84 mg", "Other" or "" when not charted
    dose_other_mg: Decimal | None
    lot_number: str
    total_minutes: int | None  # first administration to discharge
    ready_without_rule_minutes: int | None
    vitals_in_range_before: bool | None
    vitals_in_range_at_end: bool | None
    bp_before: BloodPressure | None
    bp_40_minutes: BloodPressure | None
    bp_at_end: BloodPressure | None
    sedation: bool
    dissociation: bool
    respiratory_depression: bool
    # The clinic's bookkeeping.
    due_on: date
    submitted_at: datetime | None
    submitted_by: str

    @property
    def status(self) -> str:
        if self.submitted_at is not None:
            return Status.SUBMITTED
        return Status.OVERDUE if self.days_left < 0 else Status.DUE

    @property
    def days_left(self) -> int:
        """Days until the due date (0: due today; negative: overdue by that many)."""
        return (self.due_on - clinic_today()).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def missing(self) -> list[str]:
        """The form's required fields the chart leaves empty, in words."""
        values = {field: getattr(self, field) for field, _label in REQUIRED}
        return [str(label) for field, label in REQUIRED if values[field] in (None, "")]


# The fields the REMS form requires, as the chart can leave them empty.
REQUIRED = [
    ("patient_first_name", gettext_lazy("patient's first name")),
    ("patient_last_name", gettext_lazy("patient's last name")),
    ("date_of_birth", gettext_lazy("date of birth")),
    ("benzodiazepines", gettext_lazy("benzodiazepines")),
    ("sedative_hypnotics", gettext_lazy("non-benzodiazepine sedative hypnotics")),
    ("psychostimulants", gettext_lazy("psychostimulants")),
    ("maois", gettext_lazy("MAOIs")),
    ("provider_first_name", gettext_lazy("provider's first name")),
    ("provider_last_name", gettext_lazy("provider's last name")),
    ("provider_phone", gettext_lazy("provider's telephone")),
    ("provider_email", gettext_lazy("provider's e-mail")),
    ("setting_name", gettext_lazy("healthcare setting's name")),
    ("setting_address", gettext_lazy("healthcare setting's address")),
    ("dose", gettext_lazy("dose")),
    ("lot_number", gettext_lazy("lot number")),
    ("total_minutes", gettext_lazy("total time")),
    ("ready_without_rule_minutes", gettext_lazy("ready to leave without the 2-hour rule")),
    ("vitals_in_range_before", gettext_lazy("vital signs before administration")),
    ("vitals_in_range_at_end", gettext_lazy("vital signs at completion")),
    ("bp_before", gettext_lazy("blood pressure before administration")),
    ("bp_40_minutes", gettext_lazy("blood pressure about 40 minutes after")),
    ("bp_at_end", gettext_lazy("blood pressure before completion")),
]


def clinic_today() -> date:
    return timezone.localdate(timezone.now(), ZoneInfo(settings.CLINIC_TIME_ZONE))


def monitoring_form(record: SessionRecord) -> MonitoringForm:
    """The monitoring form of a signed esketamine session loaded by rems_records()."""
    visit = record.appointment
    chart_rules = rules.rules_for(visit.appointment_type.slug)
    if chart_rules is None or not chart_rules.rems:
        raise ValueError("a monitoring form is for a session given under the REMS")
    observations: list[Observation] = list(record.observations.all())
    events = [event.kind for event in record.adverse_events.all()]
    readings = [observation.reading() for observation in observations]
    first_at = record.first_administration_at
    end = record.discharged_at
    zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    treatment_date = timezone.localdate(first_at or visit.start, zone)
    first_name, last_name = split_name(visit.patient.full_name)
    signer = record.signed_by
    dose, dose_other = dose_choice(record.dose_mg)
    before = bp_before_administration(readings, first_at) if first_at else None
    recheck = bp_recheck(readings, first_at, chart_rules.bp_recheck_window) if first_at else None
    last_bp = bp_at_end(readings, first_at, end) if first_at and end else None
    readings_before = last_at_or_before(readings, first_at) if first_at else None
    readings_after = [r for r in readings if first_at and r.at > first_at]
    reading_at_end = last_at_or_before(readings_after, end) if end else None
    return MonitoringForm(
        record=record,
        patient_first_name=first_name,
        patient_last_name=last_name,
        date_of_birth=visit.patient.date_of_birth,
        benzodiazepines=record.takes_benzodiazepines,
        sedative_hypnotics=record.takes_sedative_hypnotics,
        psychostimulants=record.takes_psychostimulants,
        maois=record.takes_maois,
        provider_first_name=signer.first_name if signer else "",
        provider_last_name=signer.last_name if signer else "",
        provider_phone=settings.CLINIC_PHONE,
        provider_email=signer.email if signer else "",
        setting_name=settings.CLINIC_NAME,
        setting_address=settings.CLINIC_ADDRESS,
        treatment_date=treatment_date,
        dose=dose,
        dose_other_mg=dose_other,
        lot_number=record.lot_number,
        total_minutes=int((end - first_at).total_seconds() // 60) if first_at and end else None,
        ready_without_rule_minutes=record.ready_without_rule_minutes,
        vitals_in_range_before=in_range(chart_rules.predose_limits or chart_rules.limits, readings_before),
        vitals_in_range_at_end=in_range(chart_rules.limits, reading_at_end),
        bp_before=_bp(before),
        bp_40_minutes=_bp(recheck),
        bp_at_end=_bp(last_bp),
        sedation=sedation_event([o.sedation for o in observations], events),
        dissociation=dissociation_event([o.dissociation for o in observations], events),
        respiratory_depression=respiratory_event(chart_rules.limits, [o.spo2 for o in observations], events),
        due_on=treatment_date + timedelta(days=chart_rules.rems_form_days),
        submitted_at=record.rems_submitted_at,
        submitted_by=_name(record.rems_submitted_by) if record.rems_submitted_at else "",
    )


def _name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


# --- The CSV ------------------------------------------------------------------------------------


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def _bp_part(bp: BloodPressure | None, part: str) -> str:
    return "" if bp is None else str(getattr(bp, part))


CSV_COLUMNS = [
    (gettext_lazy("Session chart"), lambda f: str(f.record.pk)),
    (gettext_lazy("Patient first name"), lambda f: f.patient_first_name),
    (gettext_lazy("Patient last name"), lambda f: f.patient_last_name),
    (gettext_lazy("Birthdate"), lambda f: _day(f.date_of_birth)),
    (gettext_lazy("Benzodiazepines"), lambda f: _yes_no(f.benzodiazepines)),
    (gettext_lazy("Non-benzodiazepine sedative hypnotics"), lambda f: _yes_no(f.sedative_hypnotics)),
    (gettext_lazy("Psychostimulants"), lambda f: _yes_no(f.psychostimulants)),
    (gettext_lazy("MAOIs"), lambda f: _yes_no(f.maois)),
    (gettext_lazy("Provider first name"), lambda f: f.provider_first_name),
    (gettext_lazy("Provider last name"), lambda f: f.provider_last_name),
    (gettext_lazy("Provider telephone"), lambda f: f.provider_phone),
    (gettext_lazy("Provider e-mail"), lambda f: f.provider_email),
    (gettext_lazy("Healthcare setting name"), lambda f: f.setting_name),
    (gettext_lazy("Healthcare setting address"), lambda f: f.setting_address),
    (gettext_lazy("Treatment date"), lambda f: _day(f.treatment_date)),
    (gettext_lazy("Dose administered"), lambda f: f.dose),
    (gettext_lazy("Other dose (mg)"), lambda f: _number(f.dose_other_mg)),
    (gettext_lazy("Lot number"), lambda f: f.lot_number),
    (gettext_lazy("Total time (minutes)"), lambda f: _number(f.total_minutes)),
    (gettext_lazy("Ready to leave without the 2-hour rule (minutes)"), lambda f: _number(f.ready_without_rule_minutes)),
    (gettext_lazy("Vital signs in range before administration"), lambda f: _yes_no(f.vitals_in_range_before)),
    (gettext_lazy("Vital signs in range before completion"), lambda f: _yes_no(f.vitals_in_range_at_end)),
    (gettext_lazy("BP before administration, systolic"), lambda f: _bp_part(f.bp_before, "systolic")),
    (gettext_lazy("BP before administration, diastolic"), lambda f: _bp_part(f.bp_before, "diastolic")),
    (gettext_lazy("BP 40 minutes after, systolic"), lambda f: _bp_part(f.bp_40_minutes, "systolic")),
    (gettext_lazy("BP 40 minutes after, diastolic"), lambda f: _bp_part(f.bp_40_minutes, "diastolic")),
    (gettext_lazy("BP before completion, systolic"), lambda f: _bp_part(f.bp_at_end, "systolic")),
    (gettext_lazy("BP before completion, diastolic"), lambda f: _bp_part(f.bp_at_end, "diastolic")),
    (gettext_lazy("Sedation"), lambda f: _yes_no(f.sedation)),
    (gettext_lazy("Dissociation"), lambda f: _yes_no(f.dissociation)),
    (gettext_lazy("Respiratory depression"), lambda f: _yes_no(f.respiratory_depression)),
    (gettext_lazy("Due by"), lambda f: _day(f.due_on)),
    (
        gettext_lazy("Submitted"),
        lambda f: (
            timezone.localtime(f.submitted_at, ZoneInfo(settings.CLINIC_TIME_ZONE)).isoformat(timespec="minutes")
            if f.submitted_at
            else ""
        ),
    ),
    (gettext_lazy("Submitted by"), lambda f: f.submitted_by),
]


def csv_header() -> list[str]:
    return [str(label) for label, _cell in CSV_COLUMNS]


def csv_row(form: MonitoringForm) -> list[str]:
    return [cell(form) for _label, cell in CSV_COLUMNS]


# --- Submission ---------------------------------------------------------------------------------


class RemsFormRefused(Exception):
    """The form cannot be marked submitted (not a signed REMS session); the message is for staff."""


def rems_form_mark_submitted(*, record: SessionRecord, by, now: datetime | None = None) -> SessionRecord:
    """Record that the monitoring form of this signed esketamine session was submitted to the
    REMS, by whom and when. Marking it again keeps the first submission."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(by):
        locked = (
            SessionRecord.objects.select_for_update(of=("self",))
            .select_related("appointment__appointment_type")
            .get(pk=record.pk)
        )
        if locked.appointment.appointment_type.slug not in rems_slugs():
            raise RemsFormRefused(_("This session is not given under the SPRAVATO REMS: it has no monitoring form."))
        if locked.signed_at is None:
            raise RemsFormRefused(_("This chart is not signed yet: its monitoring form is submitted after signing."))
        if locked.rems_submitted_at is None:
            locked.rems_submitted_at, locked.rems_submitted_by = now, by
            locked.save(update_fields=["rems_submitted_at", "rems_submitted_by"])
    return locked
