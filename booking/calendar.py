"""The .ics file of an appointment (icalendar): what a patient adds to their own calendar."""

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from booking.models import Appointment


def appointment_ics(appointment: Appointment) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.SITE_URL.split('//')[-1]}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    # Calendars are shared and glanced at: the title names neither the treatment nor the clinic.
    event.add("summary", "Appointment")
    if appointment.appointment_type.mode == appointment.appointment_type.Mode.IN_PERSON:
        event.add("location", settings.CLINIC_ADDRESS)
    else:
        event.add("location", "Video call (link sent before the visit)")
    manage_url = f"{settings.SITE_URL}/appointments/{appointment.token}/"
    event.add("description", f"{settings.CLINIC_NAME}, {settings.CLINIC_PHONE}\nManage or cancel: {manage_url}")
    event.add("status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED")
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    calendar.add_component(event)
    return calendar.to_ical()
