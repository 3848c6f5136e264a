"""The portal's sign-in: a link by e-mail, single use, valid PORTAL_LINK_MINUTES.

Which records an address reaches: every patient record with that e-mail (any letter case) that is
not anonymised, those flagged "details differ from the record" included. The link proves control
of the address, and each of those records' confirmations and reminders were already e-mailed to
that very address (README, "Patients' records"), so the portal shows its holder nothing the
address has not received; a record with another e-mail is never reached.
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from booking.models import Patient
from portal.models import SignInLink
from telemed.owed import lost_since
from telemed.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

# Rows of requests older than this are removed (a used or expired link has no further use).
KEPT_FOR = timedelta(days=1)


class LinkState(StrEnum):
    VALID, USED, EXPIRED, UNKNOWN = "valid", "used", "expired", "unknown"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def address_records(email: str) -> QuerySet[Patient]:
    """The records an address reaches (module docstring)."""
    return Patient.objects.filter(email__iexact=email.strip(), anonymised_at__isnull=True)


def patient_records(patient: Patient) -> QuerySet[Patient]:
    return address_records(patient.email)


def sign_in_link_request(*, email: str, now: datetime | None = None) -> SignInLink:
    """Ask for a link to the portal for `email`: the same queries whether or not it is known, and
    the same task queued; the task sends nothing for a row without a patient."""
    from portal.tasks import send_sign_in_link

    now = now or timezone.now()
    # The record the e-mail is the patient's own first (not a "details differ" one): its name greets.
    patient = address_records(email).order_by(F("details_differ_from").asc(nulls_first=True), "pk").only("pk").first()
    with transaction.atomic():
        SignInLink.objects.filter(created_at__lt=now - KEPT_FOR).delete()
        link = SignInLink.objects.create(
            patient=patient,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.PORTAL_LINK_MINUTES),
        )
        enqueue_on_commit(send_sign_in_link, link.pk)
    return link


def sign_in_link_send(*, link_id: int, now: datetime | None = None) -> bool:
    """E-mail the link of request `link_id`, once, while it is valid; True when sent. The token is
    drawn here and only its hash kept: a failed send rolls the hash back, and a retry draws anew."""
    from portal.emails import sign_in_email

    now = now or timezone.now()
    with transaction.atomic():
        link = (
            SignInLink.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=link_id, sent_at__isnull=True, expires_at__gt=now)
            .filter(patient__isnull=False, patient__anonymised_at__isnull=True)
            .first()
        )
        if link is None or link.patient is None:
            return False
        token = secrets.token_urlsafe(32)
        link.token_hash, link.sent_at = token_hash(token), now
        link.save(update_fields=["token_hash", "sent_at"])
        sign_in_email(link.patient, token).send()
    logger.info("portal: sign-in link %s sent", link_id)
    return True


def missed_sign_in_links_send(*, now: datetime | None = None) -> int:
    """Send the links whose message was lost (telemed/owed.py) while they can still be used."""
    now = now or timezone.now()
    missed = SignInLink.objects.filter(
        patient__isnull=False, sent_at__isnull=True, expires_at__gt=now, **lost_since("created_at", now)
    ).values_list("pk", flat=True)
    return sum(sign_in_link_send(link_id=link_id, now=now) for link_id in missed)


def _link(token: str) -> SignInLink | None:
    return SignInLink.objects.filter(token_hash=token_hash(token)).only("used_at", "expires_at").first()


def sign_in_link_state(*, token: str, now: datetime | None = None) -> LinkState:
    """What a link would do if used now, without using it."""
    link = _link(token)
    if link is None:
        return LinkState.UNKNOWN
    if link.used_at is not None:
        return LinkState.USED
    return LinkState.EXPIRED if link.expires_at <= (now or timezone.now()) else LinkState.VALID


def sign_in_link_use(*, token: str, now: datetime | None = None) -> tuple[LinkState, Patient | None]:
    """Use a link: its patient, once (two clicks at once: one wins), or why not."""
    now = now or timezone.now()
    used = SignInLink.objects.filter(
        Q(token_hash=token_hash(token)), used_at__isnull=True, expires_at__gt=now, patient__anonymised_at__isnull=True
    ).update(used_at=now)
    if not used:
        state = sign_in_link_state(token=token, now=now)
        return (LinkState.UNKNOWN if state == LinkState.VALID else state), None  # its record was anonymised
    link = SignInLink.objects.select_related("patient").get(token_hash=token_hash(token))
    return LinkState.VALID, link.patient
