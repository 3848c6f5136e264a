"""The sign-in link's e-mail (text and HTML, booking's frame): the subject names nothing clinical."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from booking.emails import patient_email, site_url
from booking.models import Patient


def sign_in_email(patient: Patient, token: str) -> EmailMultiAlternatives:
    context = {
        "sign_in_url": site_url("portal:sign_in", token),
        "minutes": settings.PORTAL_LINK_MINUTES,
        "request_url": site_url("portal:home"),
        "portal_url": "",  # this e-mail is the way in: no second link to the portal
    }
    return patient_email(subject=_("Your sign-in link"), template="portal/email/sign_in", context=context, to=patient)
