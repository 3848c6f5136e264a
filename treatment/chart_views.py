"""The session chart in the admin, opened from the day schedule (SPEC, "Session chart"): one page
per treatment visit, built for a tablet, server-rendered, each section a plain form posting to
its own address and calling one service. Admin views (staff/sites.py wraps them in admin_view):
treatment.view_sessionrecord to see a chart, chart_session to chart, sign_session to discharge,
override and sign; else 403. Every view of a chart is an audited access. Ids only in addresses."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from booking.models import Appointment
from booking.schedule import clinic_zone, clock
from booking.visit_views import day_url
from staff.audit import record_access
from staff.mixins import clinic_time
from treatment import forms, rules, services
from treatment.models import Observation, SessionRecord

VIEW_PERMISSION = "treatment.view_sessionrecord"
CHART_PERMISSION = "treatment.chart_session"
SIGN_PERMISSION = services.SIGN_PERMISSION

# Where each hard stop is resolved on the page: the error summary links there.
STOP_TARGETS = {
    rules.NOT_STARTED: "id_administration-first_administration_at",
    rules.TOO_SOON: "monitored",
    rules.NO_BP_RECHECK: "id_observation-systolic",
    rules.NO_BP_BEFORE_DISCHARGE: "id_observation-systolic",
    rules.OUT_OF_LIMITS: "observations",
    rules.NOT_ALERT: "id_observation-sedation",
    rules.NO_RIDE: "id_checklist-ride_driver_name",
}


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _visit(pk: int) -> Appointment:
    """The visit with its type, patient, clinician and chart (and the chart's signatories), in one query."""
    visit = get_object_or_404(
        Appointment.objects.select_related(
            "appointment_type",
            "patient",
            "clinician",
            "chart__started_by",
            "chart__discharged_by",
            "chart__signed_by",
        ),
        pk=pk,
    )
    if rules.rules_for(visit.appointment_type.slug) is None:
        raise Http404  # not a monitored session: it has no chart
    return visit


def _record(visit: Appointment) -> SessionRecord | None:
    try:
        return visit.chart
    except SessionRecord.DoesNotExist:
        return None


def chart_url(visit: Appointment, anchor: str = "") -> str:
    url = reverse("admin:treatment_chart", args=[visit.pk])
    return f"{url}#{anchor}" if anchor else url


def _visit_day(visit: Appointment) -> date:
    return timezone.localdate(visit.start, clinic_zone())


@dataclass(frozen=True)
class StopRow:
    text: str
    source: str
    target: str


@dataclass(frozen=True)
class ObservationRow:
    observation: Observation
    after: int | None  # whole minutes since the first administration (negative: before it)


@dataclass(frozen=True)
class Chart:
    """What the page shows, read before rendering (templates never query)."""

    record: SessionRecord
    observations: list[ObservationRow]
    adverse_events: list
    overrides: list
    addenda: list
    monitored_minutes: int | None
    dose_per_kg: object
    pending: list[StopRow]  # what a discharge now would meet

    @property
    def discharged(self) -> bool:
        return self.record.discharged_at is not None


def stop_rows(stops: list[rules.Stop]) -> list[StopRow]:
    return [StopRow(stop.text, stop.source, STOP_TARGETS.get(stop.code, "discharge")) for stop in stops]


def chart_read(record: SessionRecord, *, chart_rules: rules.ChartRules, now: datetime) -> Chart:
    """The chart's parts in one query each, whatever their number."""
    observations = list(record.observations.select_related("recorded_by"))
    end = record.discharged_at or now
    monitored = None
    if record.first_administration_at is not None:
        monitored = max(0, int((end - record.first_administration_at).total_seconds() // 60))
    pending: list[StopRow] = []
    if record.discharged_at is None:
        pending = stop_rows(
            rules.discharge_stops(
                chart_rules,
                first_administration_at=record.first_administration_at,
                discharge_at=now,
                readings=[observation.reading() for observation in observations],
                ride_arranged=record.ride_arranged,
            )
        )
    first = record.first_administration_at
    return Chart(
        record=record,
        observations=[
            ObservationRow(row, None if first is None else int((row.at - first).total_seconds() // 60))
            for row in observations
        ],
        adverse_events=list(record.adverse_events.select_related("recorded_by")),
        overrides=list(record.overrides.select_related("by")),
        addenda=list(record.addenda.select_related("by")),
        monitored_minutes=monitored,
        dose_per_kg=services.dose_per_kg(record),
        pending=pending,
    )


def _now_time(visit: Appointment, now: datetime):
    """Now as a form's default time, on the visit's day only."""
    local = now.astimezone(clinic_zone())
    return local.time().replace(second=0, microsecond=0) if local.date() == _visit_day(visit) else None


def _forms(request: HttpRequest, visit: Appointment, record: SessionRecord, chart_rules, now: datetime, bound: dict):
    """Each section's form: the bound one that failed, else a fresh one showing the chart."""
    day = _visit_day(visit)
    at_now = _now_time(visit, now)
    built = {
        "checklist": lambda: forms.ChecklistForm(initial=forms.ChecklistForm.initial_for(record), day=day),
        "administration": lambda: forms.AdministrationForm(
            initial=forms.AdministrationForm.initial_for(record, chart_rules), day=day
        ),
        "observation": lambda: forms.ObservationForm(initial={"at": at_now}, day=day),
        "adverse": lambda: forms.AdverseEventForm(initial={"at": at_now}, day=day),
        "discharge": lambda: forms.DischargeForm(
            initial={"at": at_now, "discharged_to": record.ride_driver_name},
            day=day,
            can_override=request.user.has_perm(SIGN_PERMISSION),
        ),
        "sign": lambda: forms.SignForm(
            initial={"ready_without_rule_minutes": record.ready_without_rule_minutes}, day=day, rems=chart_rules.rems
        ),
        "addendum": lambda: forms.AddendumForm(day=day),
    }
    shown = {name: bound.get(name) or make() for name, make in built.items()}
    for form in shown.values():
        form.describe_fields()
    return shown


@dataclass(frozen=True)
class SummaryItem:
    text: str
    target: str  # the id of the field or section that resolves it


# The fields a signature needs, where they are on the page.
FIELD_TARGETS = {
    "fasted_since": "id_checklist-fasted_since",
    "takes_benzodiazepines": "id_checklist-takes_benzodiazepines",
    "takes_sedative_hypnotics": "id_checklist-takes_sedative_hypnotics",
    "takes_psychostimulants": "id_checklist-takes_psychostimulants",
    "takes_maois": "id_checklist-takes_maois",
    "weight_kg": "id_administration-weight_kg",
    "dose_mg": "id_administration-dose_mg",
    "route": "id_administration-route",
    "lot_number": "id_administration-lot_number",
    "first_administration_at": "id_administration-first_administration_at",
    "discharged_at": "discharge",
    "ready_without_rule_minutes": "id_sign-ready_without_rule_minutes",
    "bp_before_administration": "id_observation-at",
}


def form_summary(form) -> list[SummaryItem]:
    """A failed form's errors, each naming its field and linking to it."""
    first = next(iter(form), None)
    items = [SummaryItem(str(error), first.auto_id if first else "") for error in form.non_field_errors()]
    for bound in form:
        items.extend(SummaryItem(f"{bound.label}: {error}", bound.auto_id) for error in bound.errors)
    return items


def _page(
    request: HttpRequest,
    visit: Appointment,
    *,
    bound: dict | None = None,
    summary: list[SummaryItem] | None = None,
    summary_title: str = "",
    status: int = 200,
) -> TemplateResponse:
    chart_rules = services.chart_rules(visit)
    record = _record(visit)
    now = timezone.now()
    context = {
        **admin.site.each_context(request),
        "title": _("Session chart"),
        "visit": visit,
        "visit_start": clinic_time(visit.start),
        "visit_end": clock(visit.end.astimezone(clinic_zone()), zone_name=True),
        "rules": chart_rules,
        "day_url": day_url(_visit_day(visit)),
        "zone_name": clinic_zone().key,
        "can_chart": request.user.has_perm(CHART_PERMISSION),
        "can_sign": request.user.has_perm(SIGN_PERMISSION),
        "can_open": visit.status == Appointment.Status.CONFIRMED,
        "summary": summary or [],
        "summary_title": summary_title,
    }
    if record is not None:
        record_access(record, shown="session chart")
        page_forms = _forms(request, visit, record, chart_rules, now, bound or {})
        context.update(chart=chart_read(record, chart_rules=chart_rules, now=now), record=record, forms=page_forms)
    return TemplateResponse(request, "admin/treatment/chart/chart.html", context, status=status)


@require_GET
def chart_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, VIEW_PERMISSION)
    return _page(request, _visit(pk))


@require_POST
def chart_open(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, VIEW_PERMISSION)
    _require(request, CHART_PERMISSION)
    visit = _visit(pk)
    try:
        services.session_start(appointment=visit, by=request.user)
    except services.ChartError as refusal:
        messages.warning(request, str(refusal))
        return redirect(chart_url(visit))
    messages.success(request, _("Chart opened; the patient is checked in."))
    return redirect(chart_url(visit, "checklist"))


def _checklist(record, by, form):
    services.checklist_update(record=record, by=by, **form.values())


def _administration(record, by, form):
    services.administration_update(record=record, by=by, **form.values())


def _observation(record, by, form):
    services.observation_add(record=record, by=by, addendum=record.locked, **form.values())


def _adverse(record, by, form):
    services.adverse_event_add(record=record, by=by, addendum=record.locked, **form.values())


def _discharge(record, by, form):
    services.session_discharge(record=record, by=by, **form.values())


def _sign(record, by, form):
    services.session_sign(record=record, by=by, **form.values())


def _addendum(record, by, form):
    services.addendum_add(record=record, by=by, text=form.cleaned_data["text"])


# section: (its form, the permission it needs besides viewing, the service call, where the page lands after)
SECTIONS = {
    "checklist": (forms.ChecklistForm, CHART_PERMISSION, _checklist, "checklist"),
    "administration": (forms.AdministrationForm, CHART_PERMISSION, _administration, "administration"),
    "observation": (forms.ObservationForm, CHART_PERMISSION, _observation, "observations"),
    "adverse": (forms.AdverseEventForm, CHART_PERMISSION, _adverse, "adverse-events"),
    "discharge": (forms.DischargeForm, SIGN_PERMISSION, _discharge, "discharge"),
    "sign": (forms.SignForm, SIGN_PERMISSION, _sign, "sign"),
    "addendum": (forms.AddendumForm, CHART_PERMISSION, _addendum, "addenda"),
}


def _done(section: str) -> str:
    return {
        "checklist": _("Check-in checklist saved."),
        "administration": _("Administration saved."),
        "observation": _("Reading added."),
        "adverse": _("Adverse event added."),
        "discharge": _("Patient discharged."),
        "sign": _("Chart signed and locked; the visit is marked completed."),
        "addendum": _("Addendum added."),
    }[section]


@require_POST
def chart_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404
    form_class, permission, call, anchor = SECTIONS[section]
    _require(request, VIEW_PERMISSION)
    _require(request, permission)
    visit = _visit(pk)
    record = _record(visit)
    if record is None:
        messages.warning(request, _("Open the chart first."))
        return redirect(chart_url(visit))
    chart_rules = services.chart_rules(visit)
    extra: dict = {}
    if form_class is forms.DischargeForm:
        extra = {"can_override": request.user.has_perm(SIGN_PERMISSION)}
    elif form_class is forms.SignForm:
        extra = {"rems": chart_rules.rems}
    form = form_class(request.POST, day=_visit_day(visit), **extra)
    summary: list[SummaryItem] = []
    title = ""
    if form.is_valid():
        try:
            call(record, request.user, form)
        except ValidationError as error:
            form.service_errors(error)
        except services.DischargeRefused as refused:
            title = _("The patient cannot be discharged yet:")
            summary = [SummaryItem(stop.text, stop.target) for stop in stop_rows(refused.reasons)]
            if "override_reason" in form.fields:
                summary.append(
                    SummaryItem(
                        _("To discharge anyway, write your reason in “Reason to discharge despite the stops”."),
                        "id_discharge-override_reason",
                    )
                )
        except services.ChartIncomplete as incomplete:
            title = _("The chart cannot be signed while these are empty:")
            summary = [
                SummaryItem(capfirst(label), FIELD_TARGETS.get(name, "")) for name, label in incomplete.missing.items()
            ]
        except services.ChartError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _done(section))
            return redirect(chart_url(visit, anchor))
    if not summary:
        summary = form_summary(form)
    visit = _visit(pk)  # as the refused call left it
    return _page(request, visit, bound={section: form}, summary=summary, summary_title=title)
