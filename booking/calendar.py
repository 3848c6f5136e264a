"""The .ics file of an appointment (icalendar): what a patient adds to their own calendar.

One event per visit for its whole life: the same UID, and a SEQUENCE raised by every move or
cancel (Appointment.sequence), so a calendar replaces what it holds instead of adding a second
event. A cancelled visit's file is a METHOD:CANCEL of that event (RFC 5546, 3.2.5)."""

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Calendar, Event

from booking.models import Appointment


def calendar_end(appointment: Appointment) -> datetime:
    """When the patient is free to go: the end of the visit plus the recovery its type needs (an
    infusion's hour of recovery); the time their calendar should keep free."""
    return appointment.end + timedelta(minutes=appointment.appointment_type.recovery_minutes)


def appointment_ics(appointment: Appointment) -> bytes:
    cancelled = appointment.status == Appointment.Status.CANCELLED
    kind = appointment.appointment_type
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.SITE_URL.split('//')[-1]}")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", calendar_end(appointment))
    # iTIP wants an organizer on PUBLISH and CANCEL alike. Calendars are shared and glanced at:
    # the address only (no CN with the clinic's name), and a title that names neither the
    # treatment nor the clinic.
    event.add("organizer", f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    event.add("summary", _("Appointment"))
    if kind.mode == kind.Mode.IN_PERSON:
        event.add("location", settings.CLINIC_ADDRESS)
    else:
        event.add("location", _("Video call (link sent before the visit)"))
    lines = [f"{settings.CLINIC_NAME}, {settings.CLINIC_PHONE}"]
    if kind.recovery_minutes:
        lines.append(
            ngettext(
                "Includes about %(minutes)d minute of recovery before you leave.",
                "Includes about %(minutes)d minutes of recovery before you leave.",
                kind.recovery_minutes,
            )
            % {"minutes": kind.recovery_minutes}
        )
    if not cancelled:
        manage_url = f"{settings.SITE_URL}/appointments/{appointment.token}/"
        lines.append(_("Manage or cancel: %(url)s") % {"url": manage_url})
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
