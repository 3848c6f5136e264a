import secrets
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import plan_rules, selectors, services
from booking.calendar import appointment_ics
from booking.forms import CancelForm, PatientDetailsForm
from booking.models import MAX_PLAN_SESSIONS, Appointment, AppointmentType, Clinician, Patient
from booking.selectors import OpenSlot
from screening.models import Screening
from telemed.converters import is_token, whole_number
from telemed.limits import over_limit
from telemed.people import parse_time_zone
from telemed.timezones import zone_choices, zone_label
from telemed.views import rate_limited
from treatment.measurements import visit_scores

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SESSION_SCREENING, SESSION_PATIENT = "booking_screening", "booking_patient"
SESSION_CHOICE, SESSION_DETAILS, SESSION_TZ = "booking_choice", "booking_details", "booking_tz"


def visitor(request) -> tuple[Screening | None, Patient | None]:
    screening = patient = None
    # The session keeps whatever a link's query held: only a token's shape is looked up.
    if is_token(token := request.session.get(SESSION_SCREENING)):
        screening = Screening.objects.submitted().filter(token=token).first()
        if screening and screening.result_expires_at <= timezone.now():
            screening = None
    if is_token(token := request.session.get(SESSION_PATIENT)):
        patient = Patient.objects.filter(booking_token=token).first()
    return screening, patient


def patient_zone(request) -> ZoneInfo:
    """The zone the visitor chose (remembered for the next steps), else the clinic's."""
    if chosen := parse_time_zone(request.GET.get("tz", "")):
        if request.session.get(SESSION_TZ) != str(chosen):
            request.session[SESSION_TZ] = str(chosen)
        return chosen
    return parse_time_zone(request.session.get(SESSION_TZ, "")) or ZoneInfo(settings.CLINIC_TIME_ZONE)


def bookable_type(request, slug: str) -> tuple[AppointmentType, "StrOrPromise", Screening | None, Patient | None]:
    appointment_type = get_object_or_404(AppointmentType, slug=slug, active=True)
    screening, patient = visitor(request)
    return (
        appointment_type,
        services.booking_refusal(appointment_type=appointment_type, screening=screening, patient=patient),
        screening,
        patient,
    )


def own_consultation(request, refusal: "StrOrPromise", screening: Screening | None) -> Appointment | None:
    """When this screening's one open consultation was booked from this browser: that booking
    (Back to the picker after booking, a second tab), rather than a refusal."""
    mine = request.session.get(SESSION_BOOKED, [])
    if refusal != services.ONE_CONSULTATION or not mine:
        return None
    return Appointment.objects.active().filter(pk__in=mine, screening=screening).only("pk", "token").first()


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
    types = []
    for kind in AppointmentType.objects.filter(active=True):
        refusal = services.booking_refusal(appointment_type=kind, screening=screening, patient=patient)
        types.append((kind, refusal, None if refusal else series_offer(patient, kind)))
    return render(request, "booking/choose_type.html", {"types": types, "meta": {"title": _("Book an appointment")}})


def slot_picker_context(request, appointment_type, *, zone: ZoneInfo, ignore_appointment_id=None) -> dict:
    """The time picker, day first: the days ahead with free times (links), then the chosen day's
    times, one button each, for any clinician (assigned when booking) or the one chosen."""
    now = timezone.now()
    today = timezone.localdate(now, timezone=zone)
    last_day = today + timedelta(days=appointment_type.horizon_days)
    chosen_day = _date_param(request.GET.get("day", ""), today, last_day)
    first_day = _date_param(request.GET.get("from", ""), today, last_day) or today
    if chosen_day and not first_day <= chosen_day < first_day + DAYS_SEARCHED:
        first_day = chosen_day
    clinicians = list(appointment_type.clinicians.filter(active=True).values_list("pk", "name"))
    clinician_id = _int_param(request.GET.get("clinician", ""), {pk for pk, _name in clinicians})
    window_start = datetime.combine(first_day, time(0), tzinfo=zone)
    found = selectors.open_slots(
        appointment_type=appointment_type,
        window_start=window_start,
        window_end=window_start + DAYS_SEARCHED,
        now=now,
        clinician_id=clinician_id,
        ignore_appointment_id=ignore_appointment_id,
    )
    by_day: dict[date, dict[datetime, OpenSlot]] = OrderedDict()
    for slot in found:  # one entry per start time: the first clinician free then stands for "any"
        by_day.setdefault(slot.start.astimezone(zone).date(), {}).setdefault(slot.start, slot)
    cutoff = now + timedelta(hours=appointment_type.cancellation_cutoff_hours)
    times = [
        {
            "local": start.astimezone(zone),
            "value": choice_value(start, clinician_id),
            "final": start < cutoff,  # inside the change cutoff: no moving or cancelling online
        }
        for start in (by_day.get(chosen_day, {}) if chosen_day else {})
    ]
    shown = list(by_day)[:DAYS_SHOWN]  # about a phone screen of days; the chosen one always
    if chosen_day in by_day and chosen_day not in shown:
        shown.append(chosen_day)
    after = (shown[-1] + timedelta(days=1)) if len(by_day) > len(shown) else first_day + DAYS_SEARCHED
    return {
        "appointment_type": appointment_type,
        "zone": str(zone),
        "zone_label": zone_label(str(zone)),
        "zone_groups": zone_choices(str(zone)),
        "clinicians": clinicians,
        "clinician_id": clinician_id,
        "clinician_name": dict(clinicians).get(clinician_id, ""),
        "days": [{"day": day, "count": len(by_day[day])} for day in shown],
        "chosen_day": chosen_day,
        "times": _parts_of_day(times),
        "any_final": any(option["final"] for option in times),
        "first_day": first_day,
        "previous_days": max(first_day - DAYS_SEARCHED, today) if first_day > today else None,
        "next_days": after if after <= last_day else None,
        "cutoff_hours": appointment_type.cancellation_cutoff_hours,
    }


DAYS_SEARCHED = timedelta(days=21)  # one query for the day list and the chosen day's times
DAYS_SHOWN = 8
PARTS_OF_DAY = ((12, _lazy("Morning")), (17, _lazy("Afternoon")), (24, _lazy("Evening")))


def _parts_of_day(times: list[dict]) -> list[tuple[str, list[dict]]]:
    """The day's times under Morning / Afternoon / Evening, in order."""
    parts: dict[str, list[dict]] = OrderedDict()
    for option in times:
        parts.setdefault(_part_label(option["local"].hour), []).append(option)
    return list(parts.items())


def _part_label(hour: int) -> str:
    return str(next(label for before, label in PARTS_OF_DAY if hour < before))


def _date_param(text: str, first: date, last: date) -> date | None:
    """A date from the query string within [first, last], else None (never an exception)."""
    try:
        value = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return value if first <= value <= last else None


def _int_param(text: str, allowed: set[int]) -> int | None:
    return number if (number := whole_number(text)) in allowed else None


ANY_CLINICIAN = "any"
CHOICE_REACH = timedelta(days=36_500)  # beyond the longest horizon a type can have (32,767 days)


def choice_value(start: datetime, clinician_id: int | None) -> str:
    return f"{start.isoformat()}|{clinician_id or ANY_CLINICIAN}"


def parse_choice(value: str) -> tuple[datetime, int | None] | None:
    """A picked time as the picker wrote it: (start, clinician id, or None for any clinician)."""
    try:
        start_text, clinician_text = value[:80].split("|")
        start = datetime.fromisoformat(start_text)
        # No booking lies a century away: this keeps year 1 and 9999 out of later date arithmetic.
        if start.tzinfo is None or abs(start - timezone.now()) > CHOICE_REACH:
            return None
    except (ValueError, OverflowError):
        return None
    if clinician_text == ANY_CLINICIAN:
        return start, None
    clinician_id = whole_number(clinician_text)
    return None if clinician_id is None else (start, clinician_id)


@never_cache
@require_http_methods(["GET", "POST"])
def pick_time(request, slug: str):
    appointment_type, refusal, screening, _patient = bookable_type(request, slug)
    if own := own_consultation(request, refusal, screening):
        return booked_page(request, own)
    if refusal:
        return render(
            request, "booking/refused.html", {"refusal": refusal, "appointment_type": appointment_type}, status=403
        )
    error, status = "", 200
    if request.method == "POST":
        choice = parse_choice(request.POST.get("slot", ""))
        if choice and services.free_clinician(
            appointment_type=appointment_type, clinician_id=choice[1], start=choice[0], now=timezone.now()
        ):
            request.session[SESSION_CHOICE] = {"type": slug, "start": choice[0].isoformat(), "clinician": choice[1]}
            return redirect("booking:details", slug=slug)
        if choice:
            error = _("Sorry, that time is not free. Please choose another.")
        else:
            error, status = _("Please choose a time."), 400  # nothing the picker could have sent
    context = slot_picker_context(request, appointment_type, zone=patient_zone(request))
    context.update(
        error=error,
        meta={"title": _("Choose a time"), "noindex": True},
        action=request.get_full_path(),
        offer=series_offer(_patient, appointment_type),
    )
    return render(request, "booking/pick_time.html", context, status=status)


def stored_details(request) -> dict | None:
    """The details typed on this browser's booking form, while the booking needs them: gone
    after the booking, and after BOOKING_DETAILS_MINUTES (a shared computer's next user)."""
    stored = request.session.get(SESSION_DETAILS)
    if not stored:
        return None
    saved_at = datetime.fromisoformat(stored.get("saved_at", "2000-01-01T00:00:00+00:00"))
    if timezone.now() - saved_at > timedelta(minutes=settings.BOOKING_DETAILS_MINUTES):
        del request.session[SESSION_DETAILS]
        return None
    return {name: stored[name] for name in ("full_name", "email", "phone")}


def stored_choice(request, slug: str) -> tuple[datetime, int | None] | None:
    choice = request.session.get(SESSION_CHOICE)
    if not choice or choice.get("type") != slug:
        return None
    return datetime.fromisoformat(choice["start"]), choice["clinician"]


@never_cache
@require_http_methods(["GET", "POST"])
def details(request, slug: str):
    appointment_type, refusal, screening, patient = bookable_type(request, slug)
    if own := own_consultation(request, refusal, screening):
        return booked_page(request, own)
    if refusal or stored_choice(request, slug) is None:
        return redirect("booking:pick", slug=slug)
    if request.method == "POST":
        form = PatientDetailsForm(request.POST)
        if form.is_valid():
            request.session[SESSION_DETAILS] = {**form.cleaned_data, "saved_at": timezone.now().isoformat()}
            # The session row holding them goes too, once idle that long (booked_page restores the default).
            request.session.set_expiry(settings.BOOKING_DETAILS_MINUTES * 60)
            return redirect("booking:confirm", slug=slug)
    else:
        source = patient or screening
        initial = stored_details(request) or (
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
    if request.method == "POST" and (done := booked_by_key(posted_request_key(request))):
        return booked_page(request, done)  # a double submit: the first one booked it
    appointment_type, refusal, screening, patient = bookable_type(request, slug)
    choice, details_data = stored_choice(request, slug), stored_details(request)
    if request.method == "POST" and choice is None and (own := own_booking_at(request, appointment_type)):
        return booked_page(request, own)  # a second tab's confirm page, sent after the first booked
    if own := own_consultation(request, refusal, screening):
        return booked_page(request, own)
    if refusal or choice is None:
        return redirect("booking:pick", slug=slug)
    if not details_data:
        return redirect("booking:details", slug=slug)
    start, clinician_id = choice
    zone = patient_zone(request)
    if request.method == "POST":
        if own := own_booking_at(request, appointment_type, start):  # confirmed again, from another tab
            return booked_page(request, own)
        if over_limit(request, "booking") or over_limit(request, "booking-email", by=details_data["email"]):
            return rate_limited(request, kept=True)  # the choice and details stay in the session
        try:
            appointment = services.appointment_book(
                appointment_type=appointment_type,
                clinician_id=clinician_id,
                start=start,
                details=services.PatientDetails(
                    **details_data, date_of_birth=screened_birth_date(screening, details_data)
                ),
                time_zone=str(zone),
                request_key=posted_request_key(request) or secrets.token_urlsafe(16),
                screening=screening,
                proven_patient=patient,
            )
        except services.SlotTaken as taken:
            if own := own_booking_at(request, appointment_type, start):  # a second tab, the same person
                return booked_page(request, own)
            context = slot_picker_context(request, appointment_type, zone=zone)
            nearby = OrderedDict((slot.start, slot) for slot in taken.nearby)
            context.update(
                error=str(taken),
                nearby=[
                    {"local": s.start.astimezone(zone), "value": choice_value(s.start, clinician_id)}
                    for s in nearby.values()
                ],
                meta={"title": _("Choose a time"), "noindex": True},
                action=reverse("booking:pick", args=[slug]),
            )
            return render(request, "booking/pick_time.html", context, status=409)
        except services.BookingError as refused:  # e.g. this screening's consultation, booked from another tab
            return render(
                request,
                "booking/refused.html",
                {"refusal": str(refused), "appointment_type": appointment_type},
                status=409,
            )
        return booked_page(request, appointment)
    clinician_name = (
        Clinician.objects.filter(pk=clinician_id).values_list("name", flat=True).first() if clinician_id else None
    )
    return render(
        request,
        "booking/confirm.html",
        {
            "appointment_type": appointment_type,
            "local_start": start.astimezone(zone),
            "zone": str(zone),
            "zone_label": zone_label(str(zone)),
            "clinician_name": clinician_name,
            "details": details_data,
            "request_key": secrets.token_urlsafe(16),
            "meta": {"title": _("Check and confirm"), "noindex": True},
        },
    )


def screened_birth_date(screening: Screening | None, details_data: dict) -> date | None:
    """The date of birth given in the screening, for a booking by the same e-mail address."""
    if screening is None or screening.email.lower() != details_data["email"].strip().lower():
        return None
    return screening.date_of_birth


SESSION_BOOKED = "booking_booked"  # this browser's own bookings, newest last
BOOKED_KEPT = 5


def booked_page(request, appointment: Appointment):
    """After a booking: its page says "You're booked"; the session remembers it was this person's."""
    for key in (SESSION_CHOICE, SESSION_DETAILS):
        request.session.pop(key, None)
    request.session.set_expiry(None)
    booked = [pk for pk in request.session.get(SESSION_BOOKED, []) if pk != appointment.pk]
    request.session[SESSION_BOOKED] = [*booked, appointment.pk][-BOOKED_KEPT:]
    return redirect(reverse("booking:manage", args=[appointment.token]) + "?booked=1")


def posted_request_key(request) -> str:
    """The confirm form's key as its page drew it (secrets.token_urlsafe), else "": a key nobody
    drew finds no booking, and the booking gets a fresh one."""
    key = request.POST.get("request_key", "")
    return key if is_token(key) else ""


def booked_by_key(request_key: str) -> Appointment | None:
    """The booking a confirm form already made: its key is drawn for that one form, so whoever
    sends it again is the person who sent it first."""
    if not request_key:
        return None
    return Appointment.objects.filter(request_key=request_key).only("pk", "token").first()


def own_booking_at(request, appointment_type: AppointmentType, start: datetime | None = None) -> Appointment | None:
    """This browser's own active booking of this type at this time (None: its latest, made within
    the hour), if it made one."""
    mine = request.session.get(SESSION_BOOKED, [])
    if not mine:
        return None
    found = Appointment.objects.active().filter(pk__in=mine, appointment_type=appointment_type)
    if start is None:
        found = found.filter(created_at__gte=timezone.now() - timedelta(hours=1)).order_by("-created_at")
    else:
        found = found.filter(start=start)
    return found.only("pk", "token").first()


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
        video=video_link(appointment),
        booked="booked" in request.GET,
        moved="moved" in request.GET,
        ride_saved="ride" in request.GET,
        has_plan=selectors.has_open_plan(appointment.patient),
        scores=visit_scores(appointment),
    )


def video_link(appointment: Appointment, *, now: datetime | None = None) -> dict | None:
    """A video visit's link, given from VIDEO_LINK_OPENS_MINUTES before the start to its end."""
    url = appointment.video_url
    if not url or appointment.status != Appointment.Status.CONFIRMED:
        return None
    now = now or timezone.now()
    opens = appointment.start - timedelta(minutes=settings.VIDEO_LINK_OPENS_MINUTES)
    if now >= appointment.end:
        return None
    return {"url": url if now >= opens else "", "opens": opens.astimezone(ZoneInfo(appointment.time_zone))}


def appointment_page(request, template: str, appointment: Appointment, title: str, **extra):
    """A page about one appointment, its times in the patient's zone."""
    zone = ZoneInfo(appointment.time_zone)
    context = {
        "appointment": appointment,
        "zone_label": zone_label(appointment.time_zone),
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
    error, status = "", 200
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
            error, status = _("Please choose a time."), 400  # nothing the picker could have sent
    zone = parse_time_zone(request.GET.get("tz", "")) or ZoneInfo(appointment.time_zone)
    context = slot_picker_context(
        request, appointment.appointment_type, zone=zone, ignore_appointment_id=appointment.pk
    )
    context.update(
        error=error,
        appointment=appointment,
        action=request.get_full_path(),
        meta={"title": _("Move your appointment"), "noindex": True},
    )
    return render(request, "booking/pick_time.html", context, status=status)


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


@require_POST
def book_again(request, token: str):
    """From a visit's page to booking, this browser now known as its patient (and its screening,
    for a consultation). A form, not a link: the tokens never appear in an address, where calendar
    sharing, history or a screen could show them."""
    appointment = appointment_by_token(token)
    if screening_token := selectors.rebook_query(appointment).get("screening"):
        request.session[SESSION_SCREENING] = screening_token
    request.session[SESSION_PATIENT] = appointment.patient.booking_token
    return redirect("booking:start")


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


@never_cache  # it holds the manage link
@require_safe
def calendar_ics(request, token: str):
    appointment = appointment_by_token(token)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


# --- A treatment plan's remaining sessions booked at once (series) ---------------------------
# The session holds the series being chosen: the plan's id and each session's clinician id (or
# None, any clinician) and start as ISO text, nothing about the patient. The details typed go
# where the one-visit flow keeps them (SESSION_DETAILS, stored_details).
SESSION_SERIES, SESSION_SERIES_BOOKED = "booking_series", "booking_series_booked"


def series_offer(patient: Patient | None, appointment_type: AppointmentType) -> dict | None:
    """The patient's plan for this treatment, as the booking pages show it: its countdown, and
    the offer to book every remaining session at once when more than one is left."""
    if patient is None or not appointment_type.needs_approval:
        return None
    plan = selectors.open_plan(patient=patient, appointment_type=appointment_type)
    if plan is None:
        return None
    return {"slug": appointment_type.slug, "left": selectors.plan_sessions_left(plan), "sessions": plan.sessions}


def series_visitor(request, slug: str, *, chosen: bool = False):
    """(type, plan, sessions left, patient, the series being chosen) for a series, or the page
    that refuses it; `chosen`: back to the first step when no series is being chosen."""
    appointment_type, refusal, _screening, patient = bookable_type(request, slug)
    plan = None
    if not refusal and patient is not None and appointment_type.needs_approval:
        plan = selectors.open_plan(patient=patient, appointment_type=appointment_type)
    if plan is None:
        refusal = refusal or _("Booking several sessions at once is for a treatment plan a clinician has approved.")
        return render(
            request, "booking/refused.html", {"refusal": refusal, "appointment_type": appointment_type}, status=403
        )
    plan.appointment_type = appointment_type
    picks = stored_series(request, plan)
    if chosen and picks is None:
        return redirect("booking:series", slug=slug)
    return appointment_type, plan, selectors.plan_sessions_left(plan), patient, picks


def stored_series(request, plan) -> list[plan_rules.Pick] | None:
    """The series this browser is choosing for `plan`, or None (none, another plan's, or unreadable)."""
    stored = request.session.get(SESSION_SERIES)
    if not isinstance(stored, dict) or stored.get("plan") != plan.pk:
        return None
    try:
        picks = [(clinician, datetime.fromisoformat(start)) for clinician, start in stored["picks"]]
    except (KeyError, TypeError, ValueError):
        return None
    return picks or None


def store_series(request, plan, picks: list[plan_rules.Pick]) -> None:
    request.session[SESSION_SERIES] = {
        "plan": plan.pk,
        "picks": [[clinician, start.isoformat()] for clinician, start in picks],
    }


def series_pick_refusal(request, plan, choice, *, earliest: datetime | None = None, others=()) -> str:
    """Why the patient cannot have this picked time in their series ("" when they can): taken,
    before `earliest` (its place in the order), or too close to `others` or to a booked session."""
    if choice is None:
        return _("Please choose a time.")
    clinician_id, start = choice[1], choice[0]
    now = timezone.now()
    if not services.free_clinician(
        appointment_type=plan.appointment_type, clinician_id=clinician_id, start=start, now=now
    ):
        return _("Sorry, that time is not free. Please choose another.")
    gap = selectors.series_gap(plan)
    zone = patient_zone(request)
    close = plan_rules.too_close(start, [*selectors.plan_session_starts(plan), *others], gap)
    if close is not None:
        local = close.astimezone(zone)
        return _(
            "That time is too close to your session on %(day)s at %(time)s: your plan keeps at least "
            "%(hours)d hours between sessions. Please choose another time."
        ) % {
            "day": formats.date_format(local, "l, F j"),
            "time": formats.time_format(local, "g:i A"),
            "hours": gap_hours(gap),
        }
    if earliest is not None and start < earliest:  # before an earlier session: it would change the order
        return series_window_text(earliest, zone, plan, later=0)
    return ""


def gap_hours(gap: timedelta) -> int:
    return -(-gap // timedelta(hours=1))  # whole hours, rounded up


def series_window_text(earliest: datetime | None, zone: ZoneInfo, plan, *, later: int) -> str:
    """The times a session may move to, in words: from the plan's spacing after the session
    before it; a time close to the `later` sessions after it moves them on too."""
    parts = []
    if earliest is not None:
        local = earliest.astimezone(zone)
        parts.append(
            _("To keep %(hours)d hours from the session before it, choose a time from %(day)s at %(time)s on.")
            % {
                "hours": gap_hours(selectors.series_gap(plan)),
                "day": formats.date_format(local, "l, F j"),
                "time": formats.time_format(local, "g:i A"),
            }
        )
    if later:
        parts.append(
            _("If the new time comes too close to the sessions after it, we move them on to keep the spacing.")
        )
    return " ".join(parts)


def series_picker(
    request, appointment_type, plan, left: int, *, number: int, count: int, error="", status=200, **extra
):
    zone = patient_zone(request)
    context = slot_picker_context(request, appointment_type, zone=zone)
    context.update(
        error=error,
        number=number,
        count=count,
        offer={"slug": appointment_type.slug, "left": left, "sessions": plan.sessions},
        action=request.get_full_path(),
        meta={
            "title": _("Session %(number)d of %(count)d: choose a time") % {"number": number, "count": count},
            "noindex": True,
        },
        **extra,
    )
    return render(request, "booking/series_pick.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def series_start(request, slug: str):
    """Step 1: the first session's time, with the one-visit picker; the engine then proposes the rest."""
    found = series_visitor(request, slug)
    if not isinstance(found, tuple):
        return found
    appointment_type, plan, left, _patient, _picks = found
    if left < 2:
        return redirect("booking:pick", slug=slug)
    error, status = "", 200
    if request.method == "POST":
        choice = parse_choice(request.POST.get("slot", ""))
        error = series_pick_refusal(request, plan, choice)
        if not error and choice:
            first = (choice[1], choice[0])
            store_series(
                request, plan, selectors.series_proposal(plan=plan, first=first, count=left, now=timezone.now())
            )
            return redirect("booking:series_review", slug=slug)
        status = 400 if choice is None else 200
    return series_picker(request, appointment_type, plan, left, number=1, count=left, error=error, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def series_change(request, slug: str, number: int):
    """Another time for one session of the series, within the spacing from its neighbours."""
    found = series_visitor(request, slug, chosen=True)
    if not isinstance(found, tuple):
        return found
    appointment_type, plan, left, _patient, picks = found
    if not 1 <= number <= len(picks):
        return redirect("booking:series_review", slug=slug)
    starts = [start for _clinician, start in picks]
    window = plan_rules.change_window(starts, number - 1, selectors.series_gap(plan))
    error, status = "", 200
    if request.method == "POST":
        choice = parse_choice(request.POST.get("slot", ""))
        error = series_pick_refusal(request, plan, choice, earliest=window[0], others=starts[: number - 1])
        if not error and choice:
            changed = (choice[1], choice[0])
            query = f"?changed={number}"
            if plan_rules.within(changed[1], window):
                picks[number - 1] = changed
            else:  # too close to the sessions after it: they follow, each at the earliest time that keeps the spacing
                following = selectors.series_proposal(
                    plan=plan, first=changed, count=len(picks) - number + 1, now=timezone.now()
                )
                picks = picks[: number - 1] + following
                query += "&moved=1"
            store_series(request, plan, picks)
            return redirect(reverse("booking:series_review", args=[slug]) + query)
        status = 400 if choice is None else 200
    return series_picker(
        request,
        appointment_type,
        plan,
        left,
        number=number,
        count=len(picks),
        error=error,
        status=status,
        window_text=series_window_text(window[0], patient_zone(request), plan, later=len(picks) - number),
        current=starts[number - 1].astimezone(patient_zone(request)),
    )


def series_rows(request, slug: str, plan, picks: list[plan_rules.Pick]) -> list[dict]:
    """Each session of the series as the review page lists it, with its change link (from the
    first day it may move to)."""
    zone = patient_zone(request)
    names = dict(Clinician.objects.filter(pk__in={c for c, _start in picks if c}).values_list("pk", "name"))
    starts = [start for _clinician, start in picks]
    gap = selectors.series_gap(plan)
    rows = []
    for number, (clinician_id, start) in enumerate(picks, start=1):
        earliest, _latest = plan_rules.change_window(starts, number - 1, gap)
        first_day = max(earliest, timezone.now()).astimezone(zone).date() if earliest else None
        query = f"?from={first_day.isoformat()}" if first_day else ""
        rows.append(
            {
                "number": number,
                "local": start.astimezone(zone),
                "clinician": names.get(clinician_id, "") if clinician_id else "",
                "change": reverse("booking:series_change", args=[slug, number]) + query,
            }
        )
    return rows


@never_cache
@require_http_methods(["GET", "POST"])
def series_review(request, slug: str):
    """Step 3: every session of the series, each changeable, then the patient's details and one button."""
    posted_key = posted_request_key(request) if request.method == "POST" else ""
    if posted_key and (done := series_booked_by_key(posted_key)):
        return series_booked_page(request, slug, done)  # a double submit: the first one booked them
    found = series_visitor(request, slug, chosen=True)
    if not isinstance(found, tuple):
        return found
    appointment_type, plan, left, patient, picks = found
    zone = patient_zone(request)
    error, status, nearby, taken_number = "", 200, [], None
    if request.method == "POST":
        form = PatientDetailsForm(request.POST)
        if form.is_valid():
            request.session[SESSION_DETAILS] = {**form.cleaned_data, "saved_at": timezone.now().isoformat()}
            request.session.set_expiry(settings.BOOKING_DETAILS_MINUTES * 60)
            if over_limit(request, "booking") or over_limit(request, "booking-email", by=form.cleaned_data["email"]):
                return rate_limited(request, kept=True)
            try:
                booked = services.appointment_series_book(
                    plan=plan,
                    picks=picks,
                    details=services.PatientDetails(**form.cleaned_data),
                    time_zone=str(zone),
                    request_key=posted_key or secrets.token_urlsafe(16),
                    proven_patient=patient,
                )
            except services.SeriesSlotTaken as taken:
                error, status, taken_number = str(taken), 409, taken.number
                starts = [start for _clinician, start in picks]
                window = plan_rules.change_window(starts, taken.number - 1, selectors.series_gap(plan))
                before = starts[: taken.number - 1]
                nearby = [
                    {
                        "local": slot.start.astimezone(zone),
                        "value": choice_value(slot.start, picks[taken.number - 1][0]),
                    }
                    for slot in OrderedDict((slot.start, slot) for slot in taken.nearby).values()
                    # Where session N may move to (series_change): the sessions after it follow if need be.
                    if plan_rules.within(slot.start, (window[0], None))
                    and plan_rules.too_close(slot.start, before, selectors.series_gap(plan)) is None
                ]
            except services.BookingError as refused:
                error, status = str(refused), 409
            else:
                return series_booked_page(request, slug, [visit.pk for visit in booked])
    else:
        source = stored_details(request) or {name: getattr(patient, name) for name in ("full_name", "email", "phone")}
        form = PatientDetailsForm(initial=source)
    changed = whole_number(request.GET.get("changed", ""), len(picks))
    moved = changed is not None and 0 < changed < len(picks) and "moved" in request.GET
    return render(
        request,
        "booking/series_review.html",
        {
            "appointment_type": appointment_type,
            "rows": series_rows(request, slug, plan, picks),
            "count": len(picks),
            "offer": {"slug": slug, "left": left, "sessions": plan.sessions},
            "short": len(picks) < left,
            "horizon_end": (timezone.now() + timedelta(days=appointment_type.horizon_days)).astimezone(zone),
            "zone": str(zone),
            "zone_label": zone_label(str(zone)),
            "form": form,
            "error": error,
            "nearby": nearby,
            "taken_number": taken_number,
            "changed": changed,
            "moved": moved,
            "request_key": secrets.token_urlsafe(16),
            "meta": {"title": _("Check your sessions"), "noindex": True},
        },
        status=status,
    )


def series_booked_by_key(request_key: str) -> list[int]:
    """The visits a review form already booked (services.series_request_keys)."""
    keys = services.series_request_keys(request_key, MAX_PLAN_SESSIONS)
    return list(Appointment.objects.filter(request_key__in=keys).values_list("pk", flat=True))


def series_booked_page(request, slug: str, pks: list[int]):
    for key in (SESSION_SERIES, SESSION_DETAILS):
        request.session.pop(key, None)
    request.session.set_expiry(None)
    request.session[SESSION_SERIES_BOOKED] = pks
    return redirect("booking:series_booked", slug=slug)


@never_cache
@require_safe
def series_booked(request, slug: str):
    """After booking a series: each session, with its own page (to move or cancel one)."""
    pks = request.session.get(SESSION_SERIES_BOOKED)
    if not isinstance(pks, list) or not pks:
        return redirect("booking:start")
    visits = list(
        Appointment.objects.filter(pk__in=[pk for pk in pks if isinstance(pk, int)], appointment_type__slug=slug)
        .select_related("clinician", "appointment_type")
        .order_by("start")
    )
    if not visits:
        return redirect("booking:start")
    zone = ZoneInfo(visits[0].time_zone)
    return render(
        request,
        "booking/series_booked.html",
        {
            "appointment_type": visits[0].appointment_type,
            "visits": [{"visit": visit, "local": visit.start.astimezone(zone)} for visit in visits],
            "zone": str(zone),
            "zone_label": zone_label(str(zone)),
            "meta": {"title": _("Your sessions are booked"), "noindex": True},
        },
    )
