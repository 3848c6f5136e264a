"""Patient e-mails: HTML and text, subjects that never name a treatment or a diagnosis."""

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from booking.calendar import appointment_ics
from booking.models import Appointment, Patient, Reminder, ReminderKind
from booking.preparation import fasting_sentence, fasting_times


def local_start(appointment: Appointment) -> datetime:
    return timezone.localtime(appointment.start, ZoneInfo(appointment.time_zone))


def site_url(viewname: str, *args: str, query: dict[str, str] | None = None) -> str:
    """An absolute link for an e-mail: SITE_URL plus the path of a named URL."""
    path = reverse(viewname, args=args)
    return settings.SITE_URL.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")


def _clinic() -> dict[str, str]:
    return {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE, "address": settings.CLINIC_ADDRESS}


def _email(*, subject: str, template: str, context: dict, to: Patient) -> EmailMultiAlternatives:
    """Text and HTML from templates/booking/email/<template>.*, which extend base.txt and base.html
    (greeting, crisis line, clinic name)."""
    # Subjects are seen on lock screens and by others: no treatment, no diagnosis, no clinic name.
    context = {**context, "subject": subject, "recipient_name": to.full_name, "clinic": _clinic()}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"booking/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.email],
    )
    message.attach_alternative(render_to_string(f"booking/email/{template}.html", context), "text/html")
    return message


def confirmation_email(appointment: Appointment) -> EmailMultiAlternatives:
    context = {
        "appointment": appointment,
        "local_start": local_start(appointment),
        "manage_url": site_url("booking:manage", appointment.token),
    }
    message = _email(
        subject=_("Your appointment is confirmed"),
        template="confirmation",
        context=context,
        to=appointment.patient,
    )
    message.attach("appointment.ics", appointment_ics(appointment), "text/calendar")
    return message


def approval_email(patient: Patient) -> EmailMultiAlternatives:
    context = {
        "patient": patient,
        "booking_url": site_url("booking:start", query={"patient": patient.booking_token}),
    }
    return _email(
        subject=_("You can now book your next appointments"), template="approval", context=context, to=patient
    )


def reminder_email(reminder: Reminder) -> EmailMultiAlternatives:
    """The e-mail of one reminder row, by its kind."""
    appointment = reminder.appointment
    if reminder.kind == ReminderKind.CONFIRMATION:
        return confirmation_email(appointment)
    context = _visit_context(appointment)
    start = context["local_start"]
    if reminder.kind == ReminderKind.PREPARATION:
        subject = _("Getting ready for your appointment on %(day)s") % {"day": dateformat.format(start, "l, F j")}
    elif reminder.kind == ReminderKind.DAY_BEFORE:
        subject = _day_before_subject(start)
    elif reminder.kind == ReminderKind.FOLLOW_UP:
        subject = _("How are you doing today?")
    elif reminder.kind == ReminderKind.CANCELLATION:
        subject = _("Your appointment is cancelled")
    else:
        raise ValueError(f"no e-mail for reminder kind {reminder.kind!r}")
    return _email(subject=subject, template=f"reminder_{reminder.kind}", context=context, to=appointment.patient)


def _visit_context(appointment: Appointment) -> dict:
    start = local_start(appointment)
    kind = appointment.appointment_type
    fasting = fasting_times(
        start=appointment.start,
        time_zone=appointment.time_zone,
        food_minutes=kind.fasting_food_minutes,
        liquids_minutes=kind.fasting_liquids_minutes,
    )
    return {
        "appointment": appointment,
        "local_start": start,
        "in_person": kind.mode == kind.Mode.IN_PERSON,
        "video_url": appointment.clinician.video_room_url,
        "fasting": fasting_sentence(fasting, start_local=start),
        "ride_required": kind.ride_home_required,
        "ride_confirmed": appointment.ride_confirmed_at is not None,
        "ride_url": site_url("booking:ride", appointment.token),
        "manage_url": site_url("booking:manage", appointment.token),
        "booking_url": site_url("booking:start", query={"patient": appointment.patient.booking_token}),
        # Booking again after a cancel: a consultation needs the screening it was booked from.
        "rebook_url": site_url("booking:start", query={"screening": appointment.screening.token})
        if appointment.screening_id
        else site_url("booking:start", query={"patient": appointment.patient.booking_token}),
        "change_hours": kind.cancellation_cutoff_hours,
    }


def _day_before_subject(start: datetime) -> str:
    # Sent a day ahead, but a late booking or a delayed send can make it the same day.
    days_ahead = (start.date() - timezone.localtime(timezone.now(), start.tzinfo).date()).days
    if days_ahead == 1:
        return _("Your appointment is tomorrow")
    if days_ahead <= 0:
        return _("Your appointment is today")
    return _("Your appointment on %(day)s") % {"day": dateformat.format(start, "l, F j")}
