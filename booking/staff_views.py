"""The clinic's day in the admin: the schedule (a day, a week) and the managers' CSV of visits.
Admin views (staff/sites.py wraps them in admin_view): signed in with both factors, and a
permission each, else 403."""

import csv
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking import schedule
from booking.models import Appointment
from staff.audit import record_list_access
from telemed.converters import whole_number

VIEW_PERMISSION = "booking.view_appointment"
CHANGE_PERMISSION = "booking.change_appointment"
EXPORT_PERMISSION = "booking.export_visits"


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _today() -> date:
    return timezone.localdate(timezone.now(), timezone=schedule.clinic_zone())


def _chosen_day(request: HttpRequest, today: date) -> date:
    """The ?date= day, or today, saying so kindly, when it is not a date the schedule can show."""
    text = request.GET.get("date", "")
    if not text:
        return today
    day = schedule.parse_day(text)
    if day is None:
        messages.warning(
            request,
            _("That is not a date we can show (use YYYY-MM-DD, between %(first)s and %(last)s): here is today.")
            % {"first": schedule.FIRST_DAY.isoformat(), "last": schedule.LAST_DAY.isoformat()},
        )
        return today
    return day


def _chosen_clinician(request: HttpRequest, choices: tuple[schedule.ClinicianChoice, ...]) -> int | None:
    text = request.GET.get("clinician", "")
    if not text:
        return None
    pk = whole_number(text)
    if pk is None or pk not in {choice.pk for choice in choices}:
        messages.warning(request, _("We could not find that clinician: here is everyone."))
        return None
    return pk


def _link(name: str, day: date, clinician_id: int | None) -> str:
    query = {"date": day.isoformat(), **({"clinician": str(clinician_id)} if clinician_id else {})}
    return f"{reverse(name)}?{urlencode(query)}"


def _schedule_page(request: HttpRequest, *, days: int, template: str) -> TemplateResponse:
    _require(request, VIEW_PERMISSION)
    today = _today()
    day = _chosen_day(request, today)
    first_day = schedule.week_start(day) if days == 7 else day
    # Kept inside the days the schedule can show, so that "next" and "previous" always work.
    first_day = min(max(first_day, schedule.FIRST_DAY), schedule.LAST_DAY - timedelta(days=days - 1))
    choices = schedule.clinician_choices()
    clinician_id = _chosen_clinician(request, choices)
    shown = schedule.schedule_read(
        first_day=first_day, days=days, clinician_id=clinician_id, now=timezone.now(), choices=choices
    )
    name = "admin:schedule_week" if days == 7 else "admin:schedule_day"
    step = timedelta(days=days)
    previous_day, next_day = first_day - step, first_day + step
    chosen = next((choice for choice in choices if choice.pk == clinician_id), None)
    context = {
        **admin.site.each_context(request),
        "title": _schedule_title(days, first_day, chosen),
        "schedule": shown,
        "day": day,
        "today": today,
        "clinician_id": clinician_id,
        "chosen_clinician": chosen,
        "choices": choices,
        "zone_name": shown.zone.key,
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
        "can_export": request.user.has_perm(EXPORT_PERMISSION),
        "links": {
            "today": _link(name, today, clinician_id),
            "tomorrow": _link("admin:schedule_day", today + timedelta(days=1), clinician_id),
            "previous": _link(name, previous_day, clinician_id) if previous_day >= schedule.FIRST_DAY else "",
            "next": _link(name, next_day, clinician_id) if next_day <= schedule.LAST_DAY else "",
            "day": _link("admin:schedule_day", day, clinician_id),
            "week": _link("admin:schedule_week", day, clinician_id),
        },
        "here": _link(name, day, clinician_id),
        "day_columns": [(d, _link("admin:schedule_day", d, clinician_id), d == today) for d in shown.days],
        "form_action": reverse(name),
    }
    return TemplateResponse(request, template, context)


def _schedule_title(days: int, first_day: date, chosen: schedule.ClinicianChoice | None) -> str:
    if days == 7:
        last = first_day + timedelta(days=6)
        period = _("Week of %(first)s – %(last)s") % {
            "first": dateformat.format(first_day, "D M j"),
            "last": dateformat.format(last, "D M j, Y"),
        }
    else:
        period = dateformat.format(first_day, "l, F j, Y")
    if chosen:
        return _("Schedule: %(period)s, %(clinician)s") % {"period": period, "clinician": chosen.name}
    return _("Schedule: %(period)s") % {"period": period}


def schedule_day(request: HttpRequest) -> TemplateResponse:
    return _schedule_page(request, days=1, template="admin/schedule/day.html")


def schedule_week(request: HttpRequest) -> TemplateResponse:
    return _schedule_page(request, days=7, template="admin/schedule/week.html")


# The export: visits of a date range as CSV, for the clinic's accounts and planning.
MAX_EXPORT_DAYS = 366


class ExportForm(forms.Form):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (clinic dates, both included)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are named here rather than as class attributes.
        for name, label in (("from", gettext_lazy("From")), ("to", gettext_lazy("To (included)"))):
            self.fields[name] = forms.DateField(
                label=label,
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                help_text=gettext_lazy("Clinic date, for example 2026-12-31."),
                error_messages={
                    "required": gettext_lazy("Please enter a date."),
                    "invalid": gettext_lazy("Please enter a date as YYYY-MM-DD, for example 2026-12-31."),
                },
            )

    def clean(self):
        cleaned = super().clean()
        for name in ("from", "to"):
            day = cleaned.get(name)
            if day is not None and not schedule.FIRST_DAY <= day <= schedule.LAST_DAY:
                self.add_error(
                    name,
                    _("Please enter a date between %(first)s and %(last)s.")
                    % {"first": schedule.FIRST_DAY.isoformat(), "last": schedule.LAST_DAY.isoformat()},
                )
                cleaned.pop(name, None)
        first, last = cleaned.get("from"), cleaned.get("to")
        if first and last:
            if last < first:
                self.add_error("to", _("The last day comes before the first: please swap them."))
            elif (last - first).days + 1 > MAX_EXPORT_DAYS:
                self.add_error(
                    "to",
                    _("Please choose at most %(days)d days; export a longer stretch in parts.")
                    % {"days": MAX_EXPORT_DAYS},
                )
        return cleaned


# A cell a spreadsheet would run as a formula (a patient may type "=HYPERLINK(...)" as a name).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def visits_export(request: HttpRequest) -> HttpResponse:
    """The form, and with a valid range the CSV. Each exported visit is an access entry in the
    audit trail: who exported which visits, and when."""
    _require(request, EXPORT_PERMISSION)
    form = ExportForm(request.GET if {"from", "to"} & set(request.GET) else None)
    if not form.is_valid():
        context = {
            **admin.site.each_context(request),
            "title": _("Export visits"),
            "crumb_schedule": True,
            "form": form,
            "max_days": MAX_EXPORT_DAYS,
        }
        return TemplateResponse(request, "admin/schedule/export.html", context)
    first, last = form.cleaned_data["from"], form.cleaned_data["to"]
    rows = schedule.export_rows(first_day=first, last_day=last)
    record_list_access(request, [Appointment(pk=row.pk) for row in rows], shown="visits export (CSV)")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="visits-{first.isoformat()}-to-{last.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Visit"),
            _("Date"),
            _("Time"),
            _("Time zone"),
            _("Clinician"),
            _("Appointment type"),
            _("Status"),
            _("Patient ID"),
            _("Patient name"),
            _("Checked in"),
            _("Cancelled at"),
            _("Cancellation reason"),
        ]
    )
    writer.writerows([csv_cell(value) for value in row.cells()] for row in rows)
    return response
