"""The patient portal, /my/: a sign-in link by e-mail, then every visit, result and plan in one place.

The pages act through booking's own pages and services (move, calendar, ride, check-in: the visit's
private page; cancel: booking.services.appointment_cancel), for the records the signed-in address
reaches and no other (portal.services)."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from booking import services as booking_services
from booking.forms import CancelForm
from booking.views import SESSION_PATIENT, appointment_page
from portal import selectors, services, sessions
from portal.forms import LinkRequestForm
from telemed.converters import whole_number
from telemed.limits import over_limit
from telemed.views import rate_limited

NOTICES = {
    "out": lambda: _("You are signed out."),
    "cancelled": lambda: _("Your appointment is cancelled. We have e-mailed you to confirm."),
}


def _same_origin_referrer(response: HttpResponse) -> HttpResponse:
    """A page whose address holds a token names it to no other site: "same-origin", whatever the
    site-wide setting becomes. Not "no-referrer": the browser would then send its form with
    `Origin: null`, which Django's CSRF check rightly refuses."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _request_page(request, form, *, sent: bool = False, timed_out: bool = False, status: int = 200):
    return render(
        request,
        "portal/request.html",
        {
            "form": form,
            "sent": sent,
            "timed_out": timed_out,
            "notice": NOTICES["out"]() if request.GET.get("out") else "",
            "link_minutes": settings.PORTAL_LINK_MINUTES,
            "meta": {"title": _("Your appointments"), "noindex": True},
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def home(request):
    visitor = sessions.visitor(request)
    if visitor.patient is not None:
        if request.method == "POST":  # a second request form, from an old tab: already signed in
            return redirect("portal:home")
        notice = request.GET.get("done", "")
        return render(
            request,
            "portal/home.html",
            {
                "patient": visitor.patient,
                "overview": selectors.overview(visitor.patient),
                "notice": NOTICES[notice]() if notice in NOTICES else "",
                "idle_minutes": settings.PORTAL_IDLE_MINUTES,
                "meta": {"title": _("Your appointments"), "noindex": True},
            },
        )
    if request.method == "GET":
        return _request_page(request, LinkRequestForm(), timed_out=visitor.timed_out)
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return _request_page(request, form, status=400)
    email = form.cleaned_data["email"]
    # Per address and per e-mail typed, known or not: the limit itself tells nobody anything.
    if over_limit(request, "portal-link") or over_limit(request, "portal-link-email", by=email):
        return rate_limited(request)
    services.sign_in_link_request(email=email)
    return _request_page(request, LinkRequestForm(), sent=True)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request, token: str):
    """GET shows a button and changes nothing (mail scanners open links); POST uses the link."""
    if request.method == "POST":
        state, patient = services.sign_in_link_use(token=token)
        if patient is not None:
            sessions.session_open(request, patient)
            return _same_origin_referrer(redirect("portal:home"))  # the token leaves the address bar
    else:
        state = services.sign_in_link_state(token=token)
    status = 200 if state == services.LinkState.VALID else 410
    return _same_origin_referrer(
        render(
            request,
            "portal/sign_in.html",
            {
                "state": state,
                "form": LinkRequestForm(),
                "link_minutes": settings.PORTAL_LINK_MINUTES,
                "meta": {"title": _("Sign in"), "noindex": True},
            },
            status=status,
        )
    )


@require_http_methods(["GET", "POST"])
def sign_out(request):
    if request.method == "GET":  # an address typed or followed changes nothing: to the portal
        return redirect("portal:home")
    sessions.session_end(request)
    return redirect(reverse("portal:home") + "?out=1")


@never_cache
@require_http_methods(["GET", "POST"])
def visit_cancel(request, pk: int):
    visitor = sessions.visitor(request)
    if visitor.patient is None:
        return redirect("portal:home")
    appointment = selectors.own_visit(visitor.patient, pk)
    if appointment is None:
        raise Http404
    if not booking_services.can_change(appointment):
        return redirect("portal:home")
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            booking_services.appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"])
        except booking_services.ChangeTooLate:
            return redirect("portal:home")
        return redirect(reverse("portal:home") + "?done=cancelled")
    return appointment_page(
        request, "portal/cancel.html", appointment, _("Cancel your appointment"), form=form, now=timezone.now()
    )


@require_http_methods(["GET", "POST"])
def book(request):
    """To booking as this patient: within a treatment plan (`plan`), or a follow-up visit. The
    record's booking token goes into the session, as a visit's "Book again" does, never an address.
    A form's button (POST); the address opened (GET) leads to the portal."""
    visitor = sessions.visitor(request)
    if visitor.patient is None or request.method == "GET":
        return redirect("portal:home")
    if plan_id := whole_number(request.POST.get("plan", "")):
        plan = selectors.own_plan(visitor.patient, plan_id)
        if plan is None:
            return redirect("portal:home")
        request.session[SESSION_PATIENT] = plan.patient.booking_token
        return redirect("booking:start")
    follow_up = selectors.follow_up_type()
    request.session[SESSION_PATIENT] = visitor.patient.booking_token
    return redirect("booking:pick", slug=follow_up.slug) if follow_up else redirect("booking:start")
