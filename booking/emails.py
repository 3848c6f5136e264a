"""Patient e-mails: HTML and text, subjects that never name a treatment or a diagnosis."""

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Appointment, Patient, TreatmentPlan
from telemed.timezones import zone_label


def local_start(appointment: Appointment) -> datetime:
    return timezone.localtime(appointment.start, ZoneInfo(appointment.time_zone))


def site_url(viewname: str, token: str | None = None, *, query: dict[str, str] | None = None) -> str:
    """An absolute link for an e-mail: SITE_URL plus the path of a named URL, which takes one token
    or nothing."""
    path = reverse(viewname) if token is None else reverse(viewname, args=[token])
    return settings.SITE_URL.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")


def _clinic() -> dict[str, str]:
    return {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE, "address": settings.CLINIC_ADDRESS}


def patient_email(*, subject: str, template: str, context: dict, to: Patient) -> EmailMultiAlternatives:
    """Text and HTML from templates/<template>.txt and .html (e.g. "booking/email/approval"), which
    extend booking/email/base.txt and base.html (greeting, crisis line, clinic name)."""
    # Subjects are seen on lock screens and by others: no treatment, no diagnosis, no clinic name.
    context = {**context, "subject": subject, "recipient_name": to.full_name, "clinic": _clinic()}
    # Every e-mail to a patient leads to all their visits as well as to its own (an e-mail that is
    # the way into the portal gives portal_url "").
    context.setdefault("portal_url", site_url("portal:home"))
    time_zone = None  # an e-mail without a visit shows no times: the clinic's zone
    if "appointment" in context:  # times are read in the patient's zone, named as people say it
        time_zone = context["appointment"].time_zone
        context["zone_label"] = zone_label(time_zone)
    with timezone.override(time_zone):  # the date and time filters write the patient's clock
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to.email])
    message.attach_alternative(html, "text/html")
    return message


def approval_email(plan: TreatmentPlan) -> EmailMultiAlternatives:
    """The booking link of an approved plan. The subject names no treatment (SPEC, "Reminders")."""
    context = {
        "patient": plan.patient,
        "sessions": plan.sessions,
        "min_hours_between": plan.min_hours_between,
        "booking_url": site_url("booking:start", query={"patient": plan.patient.booking_token}),
    }
    return patient_email(
        subject=_("You can now book your next appointments"),
        template="booking/email/approval",
        context=context,
        to=plan.patient,
    )
