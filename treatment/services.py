"""Every write of a session chart (SPEC, "Session chart"): open it, chart the check-in, the
administration, the readings and adverse events, discharge past the hard stops (or a clinician's
written override of them), sign, and, once signed, addenda only.

Each service is keyword-only, runs in one transaction with the chart's row locked, validates its
values itself (the forms repeat it for the messages), and saves as `by` in the audit trail. Times
are aware; the clinic's day is CLINIC_TIME_ZONE's."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Appointment
from booking.services import BookingError, appointment_check_in, appointment_complete
from staff.audit import acting_as
from staff.mixins import clinic_time
from telemed.people import phone_number
from treatment import rules
from treatment.models import Addendum, AdverseEvent, DischargeOverride, Observation, Route, SessionRecord

SIGN_PERMISSION = "treatment.sign_session"
# A time a little ahead of the server's clock is a tablet's clock; more is a typing slip.
CLOCK_SLACK = timedelta(minutes=5)
# "No food since" may be the evening before an early visit.
FASTING_LOOKBACK = timedelta(hours=48)
MAX_DOSE_MG = Decimal(1000)
MIN_OVERRIDE_REASON = 10  # characters: a sentence, not a dot


class ChartError(Exception):
    """Something about the chart's state that refuses the change; the message is written for staff."""


class ChartLocked(ChartError):
    def __init__(self, record: SessionRecord):
        super().__init__(
            _("This chart was signed %(when)s and is locked: add an addendum instead.")
            % {"when": clinic_time(record.signed_at)}
        )


class DischargeRefused(ChartError):
    """The hard stops (rules.Stop) that refuse the discharge; a written override lets it go."""

    def __init__(self, reasons: Sequence[rules.Stop]):
        self.reasons = list(reasons)
        super().__init__(_("The patient cannot be discharged yet: %(reasons)s") % {"reasons": self.texts()})

    def texts(self) -> str:
        return " ".join(stop.text for stop in self.reasons)


class ChartIncomplete(ChartError):
    """Sign refused: the fields still empty, each named (`missing`: field names)."""

    def __init__(self, missing: dict[str, str]):
        self.missing = missing
        super().__init__(
            _("The chart cannot be signed while these are empty: %(fields)s.") % {"fields": ", ".join(missing.values())}
        )


def chart_rules(record_or_visit: SessionRecord | Appointment) -> rules.ChartRules:
    visit = record_or_visit.appointment if isinstance(record_or_visit, SessionRecord) else record_or_visit
    found = rules.rules_for(visit.appointment_type.slug)
    if found is None:  # its type's slug was edited after the chart was opened
        raise ChartError(_("This visit is not a monitored treatment session, so it has no chart."))
    return found


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def visit_day_start(visit: Appointment) -> datetime:
    """The clinic's midnight that begins the visit's day."""
    day = timezone.localdate(visit.start, _zone())
    return datetime.combine(day, datetime.min.time(), tzinfo=_zone())


def _check_time(errors: dict, field: str, value: datetime | None, *, visit: Appointment, now: datetime) -> None:
    if value is None:
        return
    if timezone.is_naive(value):
        raise ValueError("an aware datetime is needed")  # a programming error, not the user's
    if value > now + CLOCK_SLACK:
        errors[field] = _("That time is in the future (it is now %(now)s).") % {"now": clinic_time(now)}
    elif value < visit_day_start(visit):
        errors[field] = _("That time is before the day of the visit (%(day)s).") % {
            "day": clinic_time(visit.start).rsplit(",", 1)[0]
        }


def _check_text(errors: dict, field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        errors[field] = _("Please remove the invisible control characters from this text.")
    elif len(value) > limit:
        errors[field] = _("Please keep this to %(limit)d characters (it has %(count)d).") % {
            "limit": limit,
            "count": len(value),
        }
    return value


def _check_range(errors: dict, field: str, value, low, high, unit: str = "") -> None:
    if value is not None and not low <= value <= high:
        errors[field] = _("Enter a number from %(low)s to %(high)s%(unit)s.") % {"low": low, "high": high, "unit": unit}


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _locked_record(record: SessionRecord, *, allow_signed: bool = False) -> SessionRecord:
    locked = (
        SessionRecord.objects.select_for_update(of=("self",))
        .select_related("appointment__appointment_type")
        .get(pk=record.pk)
    )
    if locked.locked and not allow_signed:
        raise ChartLocked(locked)
    return locked


def _refresh(record: SessionRecord, saved: SessionRecord) -> SessionRecord:
    """The caller's record object takes the saved values (it is the one the view re-renders)."""
    record.refresh_from_db()
    return saved


# --- Open ---------------------------------------------------------------------------------------


def session_start(*, appointment: Appointment, by, at: datetime | None = None) -> SessionRecord:
    """The chart of this treatment visit, opened now (or `at`) when it is not yet; the patient is
    checked in then if they were not (with the check-in's own rules: its day, the REMS)."""
    at = at or timezone.now()
    # acting_as is never nested (booking's services open their own): with a frozen clock two of
    # them share auditlog's signal id, and the inner one's exit would drop the outer actor.
    with transaction.atomic():
        visit = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("appointment_type")
            .get(pk=appointment.pk)
        )
        existing = SessionRecord.objects.filter(appointment=visit).first()
        if existing is not None:
            return existing
        chart_rules(visit)
        if visit.status != Appointment.Status.CONFIRMED:
            raise ChartError(
                _("This visit is %(status)s, so no chart can be opened.")
                % {"status": visit.get_status_display().lower()}
            )
        if visit.checked_in_at is None:
            try:
                visit = appointment_check_in(appointment=visit, by=by, now=at)
            except BookingError as refusal:
                raise ChartError(str(refusal)) from refusal
        with acting_as(by):
            record = SessionRecord.objects.create(appointment=visit, started_at=at, started_by=by)
    appointment.refresh_from_db(fields=["checked_in_at", "updated_at"])
    return record


# --- Check-in checklist -------------------------------------------------------------------------


def checklist_update(
    *,
    record: SessionRecord,
    by,
    fasted_since: datetime | None,
    ride_driver_name: str = "",
    ride_driver_phone: str = "",
    ride_alternative: str = "",
    takes_benzodiazepines: bool | None = None,
    takes_sedative_hypnotics: bool | None = None,
    takes_psychostimulants: bool | None = None,
    takes_maois: bool | None = None,
    medicines_note: str = "",
    now: datetime | None = None,
) -> SessionRecord:
    """The whole check-in checklist as staff charted it (a value left out is cleared): fasting,
    the ride home (a driver's name and phone, or a documented alternative) and the medicines
    asked about; the review is dated when the four medicine questions are first all answered."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    name = _check_text(errors, "ride_driver_name", ride_driver_name, 150)
    phone = _check_text(errors, "ride_driver_phone", ride_driver_phone, 32)
    alternative = _check_text(errors, "ride_alternative", ride_alternative, 500)
    note = _check_text(errors, "medicines_note", medicines_note, 500)
    if phone and "ride_driver_phone" not in errors and phone_number(phone) is None:
        errors["ride_driver_phone"] = _("Enter the driver's phone number, 10 to 15 digits, for example (555) 010-0199.")
    if name and not phone and "ride_driver_phone" not in errors:
        errors["ride_driver_phone"] = _("Enter the driver's phone number as well, or record an alternative.")
    if phone and not name and "ride_driver_name" not in errors:
        errors["ride_driver_name"] = _("Enter the driver's name as well.")
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record)
        visit = locked.appointment
        _check_time(errors, "fasted_since", fasted_since, visit=visit, now=now)
        if fasted_since is not None and "fasted_since" not in errors and fasted_since < visit.start - FASTING_LOOKBACK:
            errors["fasted_since"] = _("That is more than two days before the visit: please check the date.")
        if locked.discharged_at is not None and (name, phone, alternative) != (
            locked.ride_driver_name,
            locked.ride_driver_phone,
            locked.ride_alternative,
        ):
            # The discharge was judged on the ride charted then.
            errors["ride_driver_name"] = _(
                "The patient was discharged %(when)s with the ride home charted then: it cannot change now."
            ) % {"when": clinic_time(locked.discharged_at)}
        _raise(errors)
        answers = (takes_benzodiazepines, takes_sedative_hypnotics, takes_psychostimulants, takes_maois)
        locked.fasted_since = fasted_since
        locked.ride_driver_name, locked.ride_driver_phone, locked.ride_alternative = name, phone, alternative
        (
            locked.takes_benzodiazepines,
            locked.takes_sedative_hypnotics,
            locked.takes_psychostimulants,
            locked.takes_maois,
        ) = answers
        locked.medicines_note = note
        if None in answers:
            locked.medicines_reviewed_at = None
        elif locked.medicines_reviewed_at is None:
            locked.medicines_reviewed_at = now
        locked.save()
    return _refresh(record, locked)


# --- Administration -----------------------------------------------------------------------------


def administration_update(
    *,
    record: SessionRecord,
    by,
    weight_kg: Decimal | None,
    dose_mg: Decimal | None,
    route: str,
    lot_number: str,
    first_administration_at: datetime | None,
    now: datetime | None = None,
) -> SessionRecord:
    """What was given, how and when. For a type dosed by weight (IV) the weight is required with the
    dose, so that mg/kg can be shown."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    lot = _check_text(errors, "lot_number", lot_number, 40)
    if route and route not in Route.values:
        errors["route"] = _("Choose one of the routes listed.")
    low, high = rules.WEIGHT_KG_RANGE
    _check_range(errors, "weight_kg", weight_kg, low, high, " kg")
    if dose_mg is not None and not Decimal(0) < dose_mg <= MAX_DOSE_MG:
        errors["dose_mg"] = _("Enter a dose above 0 and at most %(max)s mg.") % {"max": MAX_DOSE_MG}
    for field, value in (("weight_kg", weight_kg), ("dose_mg", dose_mg)):
        if value is not None and field not in errors and value != value.quantize(Decimal("0.1")):
            errors[field] = _("Enter at most one decimal place.")
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record)
        visit = locked.appointment
        rule = chart_rules(visit)
        if rule.dose_per_kg and dose_mg is not None and weight_kg is None and "weight_kg" not in errors:
            errors["weight_kg"] = _("Enter the patient's weight: this treatment is dosed in mg/kg.")
        _dose_check(errors, rule, dose_mg=dose_mg, weight_kg=weight_kg, route=route)
        if locked.discharged_at is not None and first_administration_at != locked.first_administration_at:
            # The discharge was judged on the time charted then (its minutes monitored, its blood
            # pressure window); moving it afterwards would make the chart say what nobody checked.
            errors["first_administration_at"] = _(
                "The patient was discharged %(when)s, judged on this time: it cannot change now."
            ) % {"when": clinic_time(locked.discharged_at)}
        _check_time(errors, "first_administration_at", first_administration_at, visit=visit, now=now)
        _raise(errors)
        locked.weight_kg, locked.dose_mg, locked.route, locked.lot_number = weight_kg, dose_mg, route, lot
        locked.first_administration_at = first_administration_at
        locked.save()
    return _refresh(record, locked)


def _dose_check(errors: dict, rule: rules.ChartRules, *, dose_mg, weight_kg, route: str) -> None:
    """A dose the treatment does not come in, above its ceiling by weight, or by another route: a
    slip of the finger on a tablet, refused with what is expected."""
    if route and route != rule.route and "route" not in errors:
        errors["route"] = _("This treatment is given %(route)s.") % {"route": Route(rule.route).label.lower()}
    if dose_mg is None or "dose_mg" in errors:
        return
    if rule.doses_mg and dose_mg not in rule.doses_mg:
        errors["dose_mg"] = _("A dose of this treatment is %(doses)s mg (%(source)s).") % {
            "doses": ", ".join(str(dose) for dose in rule.doses_mg),
            "source": rule.dose_source,
        }
    elif rule.max_mg_per_kg is not None and weight_kg and "weight_kg" not in errors:
        if dose_mg / weight_kg > rule.max_mg_per_kg:
            errors["dose_mg"] = _("That is %(per_kg)s mg/kg; the clinic's ceiling is %(max)s mg/kg.") % {
                "per_kg": (dose_mg / weight_kg).quantize(Decimal("0.01")),
                "max": rule.max_mg_per_kg,
            }


def dose_per_kg(record: SessionRecord) -> Decimal | None:
    """The dose in mg/kg, to two decimals, when both the dose and the weight are charted."""
    if record.dose_mg is None or not record.weight_kg:
        return None
    return (record.dose_mg / record.weight_kg).quantize(Decimal("0.01"))


# --- Observations and adverse events ------------------------------------------------------------


def observation_validate(
    *,
    record: SessionRecord,
    at: datetime,
    systolic: int | None,
    diastolic: int | None,
    heart_rate: int | None,
    spo2: int | None,
    sedation: int | None,
    dissociation: int | None,
    now: datetime,
) -> None:
    errors: dict[str, str] = {}
    if at is None:
        errors["at"] = _("Enter the time of the reading.")
    else:
        _check_time(errors, "at", at, visit=record.appointment, now=now)
    if (systolic is None) != (diastolic is None):
        field = "diastolic" if diastolic is None else "systolic"
        errors[field] = _("Enter the blood pressure as two numbers: systolic and diastolic.")
    _check_range(errors, "systolic", systolic, *rules.SYSTOLIC_RANGE, " mmHg")
    _check_range(errors, "diastolic", diastolic, *rules.DIASTOLIC_RANGE, " mmHg")
    if systolic is not None and diastolic is not None and not errors.keys() & {"systolic", "diastolic"}:
        if systolic <= diastolic:
            errors["systolic"] = _("The systolic (upper) number must be higher than the diastolic (lower) one.")
    _check_range(errors, "heart_rate", heart_rate, *rules.HEART_RATE_RANGE, "/min")
    _check_range(errors, "spo2", spo2, *rules.SPO2_RANGE, " %")
    if sedation is not None and sedation not in rules.MOAA_S_LABELS:
        errors["sedation"] = _("Choose a MOAA/S score from 0 to 5.")
    if dissociation is not None and dissociation not in rules.DISSOCIATION_LABELS:
        errors["dissociation"] = _("Choose a dissociation level from the list.")
    if not errors and all(v is None for v in (systolic, heart_rate, spo2, sedation, dissociation)):
        errors["systolic"] = _("Enter at least one reading: blood pressure, heart rate, SpO2 or sedation.")
    _raise(errors)


def observation_add(
    *,
    record: SessionRecord,
    by,
    at: datetime,
    systolic: int | None,
    diastolic: int | None,
    heart_rate: int | None,
    spo2: int | None,
    sedation: int | None,
    dissociation: int | None = None,
    addendum: bool = False,
    now: datetime | None = None,
) -> Observation:
    """A timed reading. After signing only as an addendum (`addendum=True`), marked as one."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record, allow_signed=addendum)
        observation_validate(
            record=locked,
            at=at,
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=heart_rate,
            spo2=spo2,
            sedation=sedation,
            dissociation=dissociation,
            now=now,
        )
        return Observation.objects.create(
            record=locked,
            at=at,
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=heart_rate,
            spo2=spo2,
            sedation=sedation,
            dissociation=dissociation,
            recorded_by=by,
            addendum=locked.locked or locked.discharged_at is not None,
        )


def adverse_event_add(
    *,
    record: SessionRecord,
    by,
    at: datetime,
    kind: str,
    severity: str,
    action: str,
    description: str = "",
    addendum: bool = False,
    now: datetime | None = None,
) -> AdverseEvent:
    """An adverse event, its severity and what was done. After signing only as an addendum."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if kind not in AdverseEvent.Kind.values:
        errors["kind"] = _("Choose the kind of event from the list.")
    if severity not in AdverseEvent.Severity.values:
        errors["severity"] = _("Choose the severity: mild, moderate or severe.")
    description = _check_text(errors, "description", description, 500)
    action = _check_text(errors, "action", action, 500)
    if not action and "action" not in errors:
        errors["action"] = _("Say what was done (or that nothing was needed).")
    if kind == AdverseEvent.Kind.OTHER and not description and "description" not in errors:
        errors["description"] = _("Describe the event.")
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record, allow_signed=addendum)
        if at is None:
            errors["at"] = _("Enter the time the event began.")
        _check_time(errors, "at", at, visit=locked.appointment, now=now)
        _raise(errors)
        return AdverseEvent.objects.create(
            record=locked,
            at=at,
            kind=kind,
            severity=severity,
            description=description,
            action=action,
            recorded_by=by,
            addendum=locked.locked or locked.discharged_at is not None,
        )


# --- Discharge and signature --------------------------------------------------------------------


def readings(record: SessionRecord, *, addenda: bool = True) -> list[rules.Reading]:
    """The chart's readings as the rules take them (one query); `addenda=False`: those charted
    before the discharge only (what the discharge was judged on)."""
    observations = record.observations.order_by("at", "pk")
    if not addenda:
        observations = observations.filter(addendum=False)
    return [
        rules.Reading(*values)
        for values in observations.values_list("at", "systolic", "diastolic", "heart_rate", "spo2", "sedation")
    ]


def discharge_check(record: SessionRecord, *, at: datetime, addenda: bool = True) -> list[rules.Stop]:
    """The hard stops a discharge at `at` would meet now."""
    return rules.discharge_stops(
        chart_rules(record),
        first_administration_at=record.first_administration_at,
        discharge_at=at,
        readings=readings(record, addenda=addenda),
        ride_arranged=record.ride_arranged,
    )


def session_discharge(
    *,
    record: SessionRecord,
    by,
    at: datetime | None = None,
    override_reason: str = "",
    discharged_to: str = "",
    now: datetime | None = None,
) -> SessionRecord:
    """Discharge the patient at `at` (now by default) to `discharged_to`. Refused with every hard
    stop (DischargeRefused) unless a clinician allowed to sign writes why they let the patient go
    anyway: each stop is then recorded as an override, with that reason, by them, now."""
    now = now or timezone.now()
    at = at or now
    if not by.has_perm(SIGN_PERMISSION):
        raise PermissionDenied
    errors: dict[str, str] = {}
    reason = _check_text(errors, "override_reason", override_reason, 2000)
    to = _check_text(errors, "discharged_to", discharged_to, 150)
    if not to and "discharged_to" not in errors:
        errors["discharged_to"] = _("Say to whom the patient is discharged (the driver, or who takes them home).")
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record)
        if locked.discharged_at is not None:
            raise ChartError(
                _("The patient was discharged %(when)s already.") % {"when": clinic_time(locked.discharged_at)}
            )
        _check_time(errors, "at", at, visit=locked.appointment, now=now)
        if "at" not in errors and at > now:
            # A discharge "in a few minutes" would let the minutes monitored run ahead of the clock.
            errors["at"] = _("The discharge time cannot be later than now (%(now)s).") % {"now": clinic_time(now)}
        latest = locked.observations.order_by("-at").values_list("at", flat=True).first()
        if "at" not in errors and latest is not None and at < latest:
            # Readings after the discharge time would not be judged: a bad one hidden by backdating.
            errors["at"] = _(
                "A reading is charted at %(latest)s, after this discharge time: discharge at or after it."
            ) % {"latest": clinic_time(latest)}
        if reason and len(reason) < MIN_OVERRIDE_REASON and "override_reason" not in errors:
            errors["override_reason"] = _(
                "Say in a sentence why the patient may go despite the stops (at least %(least)d characters)."
            ) % {"least": MIN_OVERRIDE_REASON}
        _raise(errors)
        stops = discharge_check(locked, at=at)
        if stops and not reason:
            raise DischargeRefused(stops)
        for stop in stops:  # one row each (not bulk_create): the audit trail sees every one
            DischargeOverride.objects.create(
                record=locked, stop=stop.code, stop_text=stop.text, reason=reason, by=by, at=now
            )
        locked.discharged_at, locked.discharged_by, locked.discharged_to = at, by, to
        locked.save()
    return _refresh(record, locked)


def sign_missing(record: SessionRecord) -> dict[str, str]:
    """The fields a chart cannot be signed without, by name, with their labels."""
    required = [
        "fasted_since",
        "takes_benzodiazepines",
        "takes_sedative_hypnotics",
        "takes_psychostimulants",
        "takes_maois",
        "dose_mg",
        "route",
        "lot_number",
        "first_administration_at",
        "discharged_at",
    ]
    rule = chart_rules(record)
    if rule.dose_per_kg:
        required.append("weight_kg")
    if rule.rems:
        required.append("ready_without_rule_minutes")  # a question of the REMS monitoring form
    labels = {field.name: str(field.verbose_name) for field in SessionRecord._meta.concrete_fields}
    missing = {name: labels[name] for name in required if getattr(record, name) in (None, "")}
    if rule.rems and record.first_administration_at is not None:
        # The REMS monitoring form reports the blood pressure before administration.
        before = [r for r in readings(record) if r.at <= record.first_administration_at and r.systolic is not None]
        if not before:
            missing["bp_before_administration"] = str(_("a blood pressure before the first administration"))
    return missing


def session_sign(
    *, record: SessionRecord, by, ready_without_rule_minutes: int | None = None, now: datetime | None = None
) -> SessionRecord:
    """Sign the discharged chart: it is locked from now on (later changes are addenda), and the
    visit is marked completed. `ready_without_rule_minutes`: the REMS form's question, answered
    with the signature when it was not before."""
    now = now or timezone.now()
    if not by.has_perm(SIGN_PERMISSION):
        raise PermissionDenied
    errors: dict[str, str] = {}
    _check_range(errors, "ready_without_rule_minutes", ready_without_rule_minutes, 0, 24 * 60, " min")
    _raise(errors)
    with transaction.atomic():
        locked = _locked_record(record)
        if locked.discharged_at is None:
            raise ChartError(_("Discharge the patient before signing the chart."))
        if ready_without_rule_minutes is not None:
            locked.ready_without_rule_minutes = ready_without_rule_minutes
        if missing := sign_missing(locked):
            raise ChartIncomplete(missing)
        # What the discharge was judged on still allows it, or each stop it met was overridden (a
        # guard: the inputs of the stops cannot change after a discharge).
        overridden = set(locked.overrides.values_list("stop", flat=True))
        discharged = locked.discharged_at
        if uncovered := [
            stop for stop in discharge_check(locked, at=discharged, addenda=False) if stop.code not in overridden
        ]:
            raise DischargeRefused(uncovered)
        locked.signed_at, locked.signed_by = now, by
        with acting_as(by):
            locked.save()
        visit = locked.appointment
        if visit.status == Appointment.Status.CONFIRMED and visit.start <= now:
            appointment_complete(appointment=visit, by=by, now=now)
    return _refresh(record, locked)


def addendum_add(*, record: SessionRecord, by, text: str, now: datetime | None = None) -> Addendum:
    """A dated note added to a signed chart, signed by `by`."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    text = _check_text(errors, "text", text, 2000)
    if not text and "text" not in errors:
        errors["text"] = _("Write the addendum.")
    _raise(errors)
    with transaction.atomic(), acting_as(by):
        locked = _locked_record(record, allow_signed=True)
        if not locked.locked:
            raise ChartError(_("This chart is not signed yet: change the chart itself."))
        return Addendum.objects.create(record=locked, text=text, by=by, at=now)
