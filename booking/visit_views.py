"""Staff's visit actions from the day view: check in, complete, no-show (one or many), cancel with a
reason, move. Admin views (staff/sites.py wraps them in admin_view): signed in with both factors,
booking.change_appointment else 403; each calls one service, so reminders and e-mails follow and
the audit trail has who did it. No patient data in any address: ids only."""

from datetime import date, datetime, timedelta
from datetime import date as Day  # the move form has a field named `date`
from typing import cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from booking.models import Appointment, Clinician
from booking.services import (
    OutsideHours,
    VisitActionRefused,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_staff_move,
    appointments_complete,
    appointments_no_show,
)
from staff.mixins import clinic_time
from telemed.converters import whole_number

PERMISSION = "booking.change_appointment"
MOVE_DAYS_AHEAD = 2 * 366  # a move further out is a typing slip (and year 9999 would overflow)
MAX_BULK = 500

ACTIONS = {
    "check_in": (appointment_check_in, gettext_lazy("%(visit)s: checked in.")),
    "complete": (appointment_complete, gettext_lazy("%(visit)s: marked completed.")),
    "no_show": (appointment_no_show, gettext_lazy("%(visit)s: marked no-show; its reminders are stopped.")),
}
BULK = {
    "complete": (appointments_complete, gettext_lazy("%(count)d visit(s) marked completed.")),
    "no_show": (appointments_no_show, gettext_lazy("%(count)d visit(s) marked no-show.")),
}


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def _visit(pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.select_related("appointment_type", "clinician", "patient"), pk=pk)


def describe(visit: Appointment) -> str:
    """A visit in words for a message: no patient name (messages may travel in a cookie)."""
    return _("Visit #%(id)s (%(type)s, %(start)s, %(clinician)s)") % {
        "id": visit.pk,
        "type": visit.appointment_type,
        "start": clinic_time(visit.start),
        "clinician": visit.clinician,
    }


def day_url(day: date | None = None) -> str:
    """The schedule of that day (the visit list while the schedule is not there)."""
    try:
        url = reverse("admin:schedule_day")
    except NoReverseMatch:
        return reverse("admin:booking_appointment_changelist")
    return f"{url}?{urlencode({'date': day.isoformat()})}" if day else url


def _visit_day(visit: Appointment) -> date:
    return timezone.localdate(visit.start, _zone())


def back_url(request: HttpRequest, fallback: str) -> str:
    """`next` when it is an address on this site, else `fallback`."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if (
        wanted
        and len(wanted) <= 2000
        and "\x00" not in wanted
        and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return wanted
    return fallback


def _next_field(request: HttpRequest) -> str:
    """`next` as it came, kept for the form's resubmission only when it is safe."""
    return back_url(request, "")


@require_POST
def visit_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    _require(request)
    visit = _visit(pk)
    service, done = ACTIONS[action]
    try:
        service(appointment=visit, by=request.user)
    except VisitActionRefused as refusal:
        messages.warning(request, f"{describe(visit)}: {refusal}")
    else:
        messages.success(request, done % {"visit": describe(visit)})
    return redirect(back_url(request, day_url(_visit_day(visit))))


@require_POST
def visit_bulk(request: HttpRequest) -> HttpResponse:
    """The end of the day: the visits ticked in the day view marked completed or no-show, each one
    that can be; the others are counted and left as they were."""
    _require(request)
    action = request.POST.get("action", "")
    if action not in BULK:
        return HttpResponseBadRequest(_("Choose what to mark the visits: completed or no-show."))
    texts = request.POST.getlist("visit")
    if len(texts) > MAX_BULK:
        return HttpResponseBadRequest(_("Too many visits at once."))
    ids = {whole_number(text) for text in texts}
    if None in ids:
        raise Http404
    visits = list(Appointment.objects.filter(pk__in=ids).select_related("appointment_type").order_by("start"))
    if len(visits) != len(ids):
        raise Http404
    fallback = day_url(_visit_day(visits[0]) if visits else None)
    if not visits:
        messages.warning(request, _("No visits were ticked, so nothing was changed."))
        return redirect(back_url(request, fallback))
    service, done = BULK[action]
    count = service(appointments=visits, by=request.user)
    report_marked(request, count=count, selected=len(visits), done=done)
    return redirect(back_url(request, fallback))


def report_marked(request: HttpRequest, *, count: int, selected: int, done) -> None:
    """What a bulk mark did, in words: how many changed, and how many were left as they were."""
    messages.success(request, done % {"count": count})
    if selected > count:
        messages.warning(
            request,
            _("%(count)d visit(s) left as they were: not started yet, cancelled, or marked already.")
            % {"count": selected - count},
        )


class VisitCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the cancellation"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Kept with the visit for the clinic (at most 500 characters). The patient is "
            "e-mailed that the visit is cancelled, as when they cancel themselves."
        ),
        error_messages={"required": gettext_lazy("Please give the reason for the cancellation.")},
    )


def visit_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    visit = _visit(pk)
    back = back_url(request, day_url(_visit_day(visit)))
    form = VisitCancelForm(request.POST if request.method == "POST" else None)
    booked = visit.status == Appointment.Status.CONFIRMED
    if request.method == "POST" and not booked:
        messages.warning(
            request,
            _("%(visit)s is %(status)s, so nothing was changed.")
            % {"visit": describe(visit), "status": visit.get_status_display().lower()},
        )
        return redirect(back)
    if request.method == "POST" and form.is_valid():
        ahead = visit.start > timezone.now()
        try:
            appointment_cancel(appointment=visit, reason=form.cleaned_data["reason"], by_staff=True)
        except VisitActionRefused as refused:
            messages.warning(request, str(refused))
            return redirect(back)
        told = _("the patient is being e-mailed.") if ahead else _("it had started, so the patient is not e-mailed.")
        messages.success(request, _("%(visit)s: cancelled; %(told)s") % {"visit": describe(visit), "told": told})
        return redirect(back)
    return _render(request, "admin/schedule/visit_cancel.html", visit, form, back, title=_("Cancel a visit"))


class VisitMoveForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"),
        help_text=gettext_lazy("As YYYY-MM-DD."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter the date as YYYY-MM-DD, for example 2026-12-08.")},
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("Enter the time as HH:MM on a 24-hour clock, for example 14:30.")},
    )
    clinician = forms.ModelChoiceField(
        label=gettext_lazy("Clinician"),
        queryset=Clinician.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the clinicians listed.")},
    )
    outside_hours_confirmed = forms.BooleanField(label=gettext_lazy("Yes, move it outside hours"), required=False)

    def __init__(self, *args, visit: Appointment, today: Day, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Who gives this kind of visit, and whoever has it now.
        clinician = cast(forms.ModelChoiceField, self.fields["clinician"])
        clinician.queryset = Clinician.objects.filter(
            Q(active=True, appointment_types=visit.appointment_type_id) | Q(pk=visit.clinician_id)
        ).distinct()
        zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
        self.fields["time"].help_text = _("Clinic time (%(zone)s).") % {"zone": zone.key}

    def clean_date(self) -> Day:
        day = self.cleaned_data["date"]
        if day < self.today:
            raise forms.ValidationError(_("That day has passed. Pick a day from today on."))
        if day > self.today + timedelta(days=MOVE_DAYS_AHEAD):
            raise forms.ValidationError(_("Pick a day within the next two years."))
        return day

    def start(self) -> datetime:
        return datetime.combine(
            self.cleaned_data["date"], self.cleaned_data["time"], tzinfo=ZoneInfo(settings.CLINIC_TIME_ZONE)
        )


def visit_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    visit = _visit(pk)
    zone = _zone()
    today = timezone.localdate(timezone.now(), zone)
    local = timezone.localtime(visit.start, zone)
    initial = {
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "clinician": visit.clinician,
    }
    data = request.POST if request.method == "POST" else None
    form = VisitMoveForm(data, initial=initial, visit=visit, today=today)
    reasons: list[str] = []
    if visit.status != Appointment.Status.CONFIRMED:
        message = _("%(visit)s is %(status)s, so it cannot be moved.") % {
            "visit": describe(visit),
            "status": visit.get_status_display().lower(),
        }
        messages.warning(request, message)
        return redirect(back_url(request, day_url(_visit_day(visit))))
    if request.method == "POST" and form.is_valid():
        try:
            moved = appointment_staff_move(
                appointment=visit,
                start=form.start(),
                clinician_id=form.cleaned_data["clinician"].pk,
                by=request.user,
                outside_hours_confirmed=form.cleaned_data["outside_hours_confirmed"],
            )
        except OutsideHours as outside:
            reasons = [str(reason) for reason in outside.reasons]
            form.add_error(
                "outside_hours_confirmed",
                _("This time is %(reasons)s. To move the visit anyway, tick “Yes, move it outside hours”.")
                % {"reasons": ", ".join(reasons)},
            )
        except VisitActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("%(visit)s: moved; the patient is being e-mailed the new time.") % {"visit": describe(moved)},
            )
            return redirect(back_url(request, day_url(_visit_day(moved))))
    back = back_url(request, day_url(_visit_day(visit)))
    return _render(
        request,
        "admin/schedule/visit_move.html",
        visit,
        form,
        back,
        title=_("Move a visit"),
        reasons=reasons,
        confirm_shown=bool(reasons) or bool(data and data.get("outside_hours_confirmed")),
        zone=zone.key,
    )


def _render(request, template: str, visit: Appointment, form, back: str, *, title: str, **extra) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "visit": visit,
        "visit_start": clinic_time(visit.start),
        "visit_end": timezone.localtime(visit.end, _zone()).strftime("%I:%M %p"),
        "form": form,
        "back": back,
        "next": _next_field(request),
        "day_url": day_url(_visit_day(visit)),
        "booked": visit.status == Appointment.Status.CONFIRMED,
        **extra,
    }
    return TemplateResponse(request, template, context)
