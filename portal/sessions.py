"""The portal's own session, inside Django's: the patient's id and two clocks. It ends after
PORTAL_IDLE_MINUTES without a portal page, PORTAL_SESSION_MAX_HOURS after sign-in, or on "Sign out"."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from booking.models import Patient

SESSION_PORTAL = "portal"


@dataclass(frozen=True)
class Visitor:
    patient: Patient | None
    timed_out: bool = False  # was signed in, and the session ended by itself


def session_open(request, patient: Patient, *, now: datetime | None = None) -> None:
    """Signed in: a new session key (a key known before sign-in must not carry it), the clocks started."""
    now = now or timezone.now()
    request.session.cycle_key()
    request.session[SESSION_PORTAL] = {"patient": patient.pk, "since": now.timestamp(), "seen": now.timestamp()}


def session_end(request) -> None:
    """Signed out: the whole session goes (a shared computer keeps nothing of it)."""
    request.session.flush()


def visitor(request, *, now: datetime | None = None) -> Visitor:
    """The signed-in patient, their idle clock restarted; or nobody (and whether time ended it)."""
    state = request.session.get(SESSION_PORTAL)
    if not isinstance(state, dict):
        return Visitor(None)
    now = now or timezone.now()
    try:
        since, seen, patient_id = float(state["since"]), float(state["seen"]), int(state["patient"])
    except (KeyError, TypeError, ValueError):
        del request.session[SESSION_PORTAL]
        return Visitor(None)
    idle = timedelta(minutes=settings.PORTAL_IDLE_MINUTES).total_seconds()
    longest = timedelta(hours=settings.PORTAL_SESSION_MAX_HOURS).total_seconds()
    if now.timestamp() - seen >= idle or now.timestamp() - since >= longest:
        del request.session[SESSION_PORTAL]
        return Visitor(None, timed_out=True)
    patient = Patient.objects.filter(pk=patient_id, anonymised_at__isnull=True).first()
    if patient is None:
        del request.session[SESSION_PORTAL]
        return Visitor(None)
    request.session[SESSION_PORTAL] = {**state, "seen": now.timestamp()}
    return Visitor(patient)
