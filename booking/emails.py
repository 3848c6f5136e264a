"""Patient e-mails: HTML and text, subjects that never name a treatment or a diagnosis."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.calendar import appointment_ics
from booking.models import Appointment, Patient


def local_start(appointment: Appointment):
    return timezone.localtime(appointment.start, ZoneInfo(appointment.time_zone))


def confirmation_email(appointment: Appointment) -> EmailMultiAlternatives:
    context = {
        "appointment": appointment,
        "local_start": local_start(appointment),
        "manage_url": f"{settings.SITE_URL}/appointments/{appointment.token}/",
        "clinic": {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE, "address": settings.CLINIC_ADDRESS},
    }
    message = EmailMultiAlternatives(
        # Subjects are seen on lock screens and by others: no treatment, no diagnosis, no clinic name.
        subject=_("Your appointment is confirmed"),
        body=render_to_string("booking/email/confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.patient.email],
    )
    message.attach_alternative(render_to_string("booking/email/confirmation.html", context), "text/html")
    message.attach("appointment.ics", appointment_ics(appointment), "text/calendar")
    return message


def approval_email(patient: Patient) -> EmailMultiAlternatives:
    context = {
        "patient": patient,
        "booking_url": f"{settings.SITE_URL}/book/?patient={patient.booking_token}",
        "clinic": {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE},
    }
    message = EmailMultiAlternatives(
        subject=_("You can now book your next appointments"),
        body=render_to_string("booking/email/approval.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[patient.email],
    )
    message.attach_alternative(render_to_string("booking/email/approval.html", context), "text/html")
    return message
