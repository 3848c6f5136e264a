import secrets
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from booking import selectors, services
from booking.api import parse_time_zone
from booking.calendar import appointment_ics
from booking.forms import CancelForm, PatientDetailsForm
from booking.models import Appointment, AppointmentType, Clinician, Patient
from screening.models import Screening

SESSION_SCREENING, SESSION_PATIENT = "booking_screening", "booking_patient"
SESSION_CHOICE, SESSION_DETAILS, SESSION_TZ = "booking_choice", "booking_details", "booking_tz"
WEEK = timedelta(days=7)
TIME_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico", "UTC",
)  # fmt: skip


def visitor(request) -> tuple[Screening | None, Patient | None]:
    screening = patient = None
    if token := request.session.get(SESSION_SCREENING):
        screening = Screening.objects.submitted().filter(token=token).first()
        if screening and screening.result_expires_at <= timezone.now():
            screening = None
    if token := request.session.get(SESSION_PATIENT):
        patient = Patient.objects.filter(booking_token=token).first()
    return screening, patient


def patient_zone(request) -> ZoneInfo:
    """The zone the visitor chose (remembered for the next steps), else the clinic's."""
    if chosen := parse_time_zone(request.GET.get("tz", "")):
        if request.session.get(SESSION_TZ) != str(chosen):
            request.session[SESSION_TZ] = str(chosen)
        return chosen
    return parse_time_zone(request.session.get(SESSION_TZ, "")) or ZoneInfo(settings.CLINIC_TIME_ZONE)


def bookable_type(request, slug: str) -> tuple[AppointmentType, str, Screening | None, Patient | None]:
    appointment_type = get_object_or_404(AppointmentType, slug=slug, active=True)
    screening, patient = visitor(request)
    return (
        appointment_type,
        services.booking_refusal(appointment_type=appointment_type, screening=screening, patient=patient),
        screening,
        patient,
    )


@require_safe
def choose_type(request):
    # Tokens arrive in links (screening result, approval e-mail); keep them in the session, not the URL.
    if token := request.GET.get("screening"):
        request.session[SESSION_SCREENING] = token[:64]
        return redirect("booking:start")
    if token := request.GET.get("patient"):
        request.session[SESSION_PATIENT] = token[:64]
        return redirect("booking:start")
    screening, patient = visitor(request)
    types = [
        (kind, services.booking_refusal(appointment_type=kind, screening=screening, patient=patient))
        for kind in AppointmentType.objects.filter(active=True)
    ]
    return render(request, "booking/choose_type.html", {"types": types, "meta": {"title": _("Book an appointment")}})


def slot_picker_context(request, appointment_type, *, zone: ZoneInfo, ignore_appointment_id=None) -> dict:
    today = timezone.localdate(timezone=zone)
    try:
        first_day = max(today, date.fromisoformat(request.GET.get("from", "")))
    except ValueError:
        first_day = today
    first_day = min(first_day, today + timedelta(days=appointment_type.horizon_days))
    window_start = datetime.combine(first_day, time(0), tzinfo=zone)
    found = selectors.open_slots(
        appointment_type=appointment_type,
        window_start=window_start,
        window_end=window_start + WEEK,
        now=timezone.now(),
        ignore_appointment_id=ignore_appointment_id,
    )
    days = OrderedDict()
    for slot in found:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append(
            {"slot": slot, "local": local, "value": f"{slot.start.isoformat()}|{slot.clinician_id}"}
        )
    return {
        "appointment_type": appointment_type,
        "zone": str(zone),
        "time_zones": sorted({*TIME_ZONES, str(zone)}),
        "days": days,
        "first_day": first_day,
        "previous_week": first_day - WEEK if first_day > today else None,
        "next_week": first_day + WEEK
        if first_day + WEEK <= today + timedelta(days=appointment_type.horizon_days)
        else None,
    }


def parse_choice(value: str) -> tuple[datetime, int] | None:
    try:
        start_text, clinician_text = value.split("|")
        start = datetime.fromisoformat(start_text)
        if start.tzinfo is None:
            return None
        return start, int(clinician_text)
    except ValueError:
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def pick_time(request, slug: str):
    appointment_type, refusal, _screening, _patient = bookable_type(request, slug)
    if refusal:
        return render(
            request, "booking/refused.html", {"refusal": refusal, "appointment_type": appointment_type}, status=403
        )
    error = ""
    if request.method == "POST":
        choice = parse_choice(request.POST.get("slot", ""))
        if choice:
            request.session[SESSION_CHOICE] = {"type": slug, "start": choice[0].isoformat(), "clinician": choice[1]}
            return redirect("booking:details", slug=slug)
        error = _("Please choose a time.")
    context = slot_picker_context(request, appointment_type, zone=patient_zone(request))
    context.update(error=error, meta={"title": _("Choose a time"), "noindex": True}, action=request.path)
    return render(request, "booking/pick_time.html", context)


def stored_choice(request, slug: str) -> tuple[datetime, int] | None:
    choice = request.session.get(SESSION_CHOICE)
    if not choice or choice.get("type") != slug:
        return None
    return datetime.fromisoformat(choice["start"]), choice["clinician"]


@never_cache
@require_http_methods(["GET", "POST"])
def details(request, slug: str):
    appointment_type, refusal, screening, patient = bookable_type(request, slug)
    if refusal or stored_choice(request, slug) is None:
        return redirect("booking:pick", slug=slug)
    if request.method == "POST":
        form = PatientDetailsForm(request.POST)
        if form.is_valid():
            request.session[SESSION_DETAILS] = form.cleaned_data
            return redirect("booking:confirm", slug=slug)
    else:
        source = patient or screening
        initial = request.session.get(SESSION_DETAILS) or (
            {name: getattr(source, name) for name in ("full_name", "email", "phone")} if source else {}
        )
        form = PatientDetailsForm(initial=initial)
    return render(
        request,
        "booking/details.html",
        {"form": form, "appointment_type": appointment_type, "meta": {"title": _("Your details"), "noindex": True}},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, slug: str):
    appointment_type, refusal, screening, patient = bookable_type(request, slug)
    choice, details_data = stored_choice(request, slug), request.session.get(SESSION_DETAILS)
    if refusal or choice is None:
        return redirect("booking:pick", slug=slug)
    if not details_data:
        return redirect("booking:details", slug=slug)
    start, clinician_id = choice
    zone = patient_zone(request)
    if request.method == "POST":
        try:
            appointment = services.appointment_book(
                appointment_type=appointment_type,
                clinician_id=clinician_id,
                start=start,
                details=services.PatientDetails(**details_data),
                time_zone=str(zone),
                request_key=request.POST.get("request_key", "")[:64] or secrets.token_urlsafe(16),
                screening=screening,
            )
        except services.SlotTaken as taken:
            context = slot_picker_context(request, appointment_type, zone=zone)
            context.update(
                error=str(taken),
                nearby=[
                    {"slot": s, "local": s.start.astimezone(zone), "value": f"{s.start.isoformat()}|{s.clinician_id}"}
                    for s in taken.nearby
                ],
                meta={"title": _("Choose a time"), "noindex": True},
                action=reverse("booking:pick", args=[slug]),
            )
            return render(request, "booking/pick_time.html", context, status=409)
        for key in (SESSION_CHOICE, SESSION_DETAILS):
            request.session.pop(key, None)
        return redirect(reverse("booking:manage", args=[appointment.token]) + "?booked=1")
    clinician_name = Clinician.objects.filter(pk=clinician_id).values_list("name", flat=True).first()
    return render(
        request,
        "booking/confirm.html",
        {
            "appointment_type": appointment_type,
            "local_start": start.astimezone(zone),
            "zone": str(zone),
            "clinician_name": clinician_name,
            "details": details_data,
            "request_key": secrets.token_urlsafe(16),
            "meta": {"title": _("Check and confirm"), "noindex": True},
        },
    )


def appointment_by_token(token: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("appointment_type", "clinician", "patient").filter(token=token[:64]).first()
    )
    if appointment is None:
        raise Http404
    return appointment


@never_cache
@require_safe
def manage(request, token: str):
    appointment = appointment_by_token(token)
    return appointment_page(
        request,
        "booking/manage.html",
        appointment,
        _("Your appointment"),
        can_change=services.can_change(appointment),
        deadline=services.change_deadline(appointment).astimezone(ZoneInfo(appointment.time_zone)),
        booked="booked" in request.GET,
        moved="moved" in request.GET,
        ride_saved="ride" in request.GET,
    )


def appointment_page(request, template: str, appointment: Appointment, title: str, **extra):
    """A page about one appointment, its times in the patient's zone."""
    zone = ZoneInfo(appointment.time_zone)
    context = {
        "appointment": appointment,
        "local_start": appointment.start.astimezone(zone),
        "local_end": appointment.end.astimezone(zone),
        "meta": {"title": title, "noindex": True},
        **extra,
    }
    return render(request, template, context)


@never_cache
@require_http_methods(["GET", "POST"])
def reschedule(request, token: str):
    appointment = appointment_by_token(token)
    if not services.can_change(appointment):
        return redirect("booking:manage", token=token)
    error = ""
    if request.method == "POST":
        choice = parse_choice(request.POST.get("slot", ""))
        if choice:
            try:
                services.appointment_reschedule(appointment=appointment, clinician_id=choice[1], start=choice[0])
            except services.ChangeTooLate:
                return redirect("booking:manage", token=token)
            except services.SlotTaken as taken:
                error = str(taken)
            else:
                return redirect(reverse("booking:manage", args=[token]) + "?moved=1")
        else:
            error = _("Please choose a time.")
    zone = parse_time_zone(request.GET.get("tz", "")) or ZoneInfo(appointment.time_zone)
    context = slot_picker_context(
        request, appointment.appointment_type, zone=zone, ignore_appointment_id=appointment.pk
    )
    context.update(
        error=error,
        appointment=appointment,
        action=request.path,
        meta={"title": _("Move your appointment"), "noindex": True},
    )
    return render(request, "booking/pick_time.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request, token: str):
    appointment = appointment_by_token(token)
    if not services.can_change(appointment):
        return redirect("booking:manage", token=token)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"])
        except services.ChangeTooLate:
            pass
        return redirect("booking:manage", token=token)
    return appointment_page(request, "booking/cancel.html", appointment, _("Cancel your appointment"), form=form)


@never_cache
@require_http_methods(["GET", "POST"])
def ride_home(request, token: str):
    """The page the preparation reminder links to. Recording takes a button press, not the link
    itself: mail scanners open links, and a ride must never be marked arranged by a robot."""
    appointment = appointment_by_token(token)
    if request.method == "POST":
        if services.ride_home_confirm(appointment=appointment):
            return redirect(reverse("booking:manage", args=[token]) + "?ride=1")
        return redirect("booking:manage", token=token)
    ready_at = appointment.end + timedelta(minutes=appointment.appointment_type.recovery_minutes)
    return appointment_page(
        request,
        "booking/ride.html",
        appointment,
        _("Your ride home"),
        ready_at=ready_at.astimezone(ZoneInfo(appointment.time_zone)),
    )


@require_safe
def calendar_ics(request, token: str):
    appointment = appointment_by_token(token)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
