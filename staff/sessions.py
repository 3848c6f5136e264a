"""Automatic logoff for staff (HIPAA technical safeguard): a staff session ends after
STAFF_IDLE_TIMEOUT seconds without a request, and STAFF_SESSION_MAX_HOURS after sign-in
whatever happens. Patients' sessions (screening, booking) are not touched."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

STARTED = "staff_session_started"
LAST_SEEN = "staff_session_last_seen"
# Kept in the new, anonymous session after a logoff, for the sign-in page to say why.
SIGNED_OUT_REASON = "staff_signed_out_reason"
IDLE, TOO_LONG, DEVICE_RESET = "idle", "too_long", "device_reset"


def logoff_reason(request: HttpRequest, now: float, *, had_device: bool) -> str:
    """Why this staff session must end now, or ""."""
    session = request.session
    if had_device and getattr(request.user, "otp_device", None) is None:
        return DEVICE_RESET  # a manager reset the second factor this session was opened with
    if now - session.get(LAST_SEEN, now) > settings.STAFF_IDLE_TIMEOUT:
        return IDLE
    if now - session.get(STARTED, now) > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return TOO_LONG
    return ""


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only the staff site needs a signed-in staff member: patients' pages neither load the
        # session for this nor count as staff activity.
        if not request.path_info.startswith(self.prefix) or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        # Read before the user is: django-otp drops the key of a device that no longer exists.
        had_device = DEVICE_ID_SESSION_KEY in request.session
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = time.time()
            reason = logoff_reason(request, now, had_device=had_device)
            if reason:
                logout(request)  # a new, empty session: nothing of the old one is kept
                request.session[SIGNED_OUT_REASON] = reason
            else:
                request.session.setdefault(STARTED, now)
                request.session[LAST_SEEN] = now
                # The stored session outlives the idle time (SESSION_COOKIE_AGE), so that the
                # sign-in page can say why it ended; it no longer signs anyone in.
        return self.get_response(request)
