"""The second step of a staff sign-in: a TOTP code (or a backup code), enrolment of the
authenticator app at the first sign-in, and new backup codes. Failed codes count towards the
same lockout as failed passwords (django-axes)."""

from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import services
from staff.forms import SecondFactorForm


def password_signed_in(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff


def second_factor_done(request: HttpRequest) -> bool:
    # is_verified comes from django-otp's middleware; a user signed in during this request has none yet.
    is_verified = getattr(request.user, "is_verified", None)
    return not settings.OTP_REQUIRED or (is_verified is not None and is_verified())


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


def redirect_to_second_factor(request: HttpRequest) -> HttpResponse:
    name = "admin:second_factor" if user_has_device(request.user) else "admin:second_factor_enrol"
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out username: the same for every name, known or not."""
    if request.user.is_authenticated:
        logout(request)  # a lockout during the second step ends the half-open session
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _page(request, "staff/locked_out.html", {"title": _("Sign-in locked"), "minutes": minutes}, status=429)


def _code_refused(request: HttpRequest, form: SecondFactorForm, *, checked: bool) -> HttpResponse | None:
    """A code that did not match: a failed sign-in (the lockout answer once there were too many).
    A code typed while django-otp still waits after the last wrong one (`checked` False) was not
    looked at: it is not counted, and the person is asked to try again in a moment."""
    if not checked:
        form.add_error("code", _("Please wait a few seconds after a wrong code, then type the one your app shows."))
        return None
    credentials = {"username": request.user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        return locked_out(request, credentials=credentials)
    form.add_error(
        "code",
        _("That code did not work. Codes change every 30 seconds: try the one your app shows now, or a backup code."),
    )
    return None


def _locked(request: HttpRequest) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": request.user.get_username()})


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    if not password_signed_in(request):
        return redirect("admin:login")
    if second_factor_done(request):
        return redirect(_next(request))
    if not user_has_device(request.user):
        return redirect_to_second_factor(request)
    if _locked(request):
        return locked_out(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.device_for_code(user=request.user, code=form.cleaned_data["code"])
        if device is None:  # reset by a manager while this page was open: enrol again
            return redirect_to_second_factor(request)
        checked = device.verify_is_allowed()[0]
        if checked and device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            return redirect(_next(request))
        if refused := _code_refused(request, form, checked=checked):
            return refused
    context = {"title": _("Second step: your code"), "form": form, "next": _next(request)}
    return _page(request, "staff/second_factor.html", context)


def _qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG, drawn here: the secret never leaves our server."""
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, omitsize=False))  # noqa: S308 - segno's own SVG of a URL it encodes


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in (or after a manager reset the device): scan, type one code, keep the backup codes."""
    if not password_signed_in(request):
        return redirect("admin:login")
    if user_has_device(request.user):
        return redirect_to_second_factor(request)
    if _locked(request):
        return locked_out(request)
    device = services.totp_device_pending(user=request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        checked = device.verify_is_allowed()[0]
        if checked and device.verify_token(form.cleaned_data["code"]):
            codes = services.totp_device_confirm(device=device)
            otp_login(request, device)
            context: dict[str, object] = {"title": _("Your backup codes"), "codes": codes, "next": _next(request)}
            return _page(request, "staff/backup_codes.html", context)
        if refused := _code_refused(request, form, checked=checked):
            return refused
    context = {
        "title": _("Set up your second factor"),
        "form": form,
        "next": _next(request),
        "qr_svg": _qr_svg(device),
        "secret": services.secret_for_typing(device),
    }
    return _page(request, "staff/enrol.html", context)


@require_POST
@never_cache
def backup_codes_renew(request: HttpRequest) -> HttpResponse:
    """A fresh set of backup codes; the old ones stop working. (Signed in with both factors.)"""
    codes = services.backup_codes_issue(user=request.user)
    return _page(request, "staff/backup_codes.html", {"title": _("Your backup codes"), "codes": codes})


@require_POST
@csrf_protect
def sign_out(request: HttpRequest) -> HttpResponse:
    """Leave part way through signing in (a shared tablet, the wrong account): the admin's own
    sign-out needs a finished sign-in, and the next person must start from the password."""
    logout(request)
    return redirect("admin:login")
