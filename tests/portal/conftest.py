import re

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from tests.booking.conftest import NOW, clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory

LINK = re.compile(r"https?://[^\s]+/my/([A-Za-z0-9_-]{16,64})/")


@pytest.fixture
def frozen_now():
    """Monday December 7, 2026, 08:00 in the clinic: the week of booking's tests."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def clinician():
    return ClinicianFactory()


@pytest.fixture
def two_visits(frozen_now, clinician):
    """Patient 1 (patient1@example.org) with two consultations booked this week."""
    first = book(clinician, clinic_time(9, 10), key="a")
    second = book(clinician, clinic_time(10, 14), key="b")
    assert first.patient == second.patient
    return first, second


def ask_for_link(client, email: str):
    """Post the request form; what it queues on commit runs (eagerly, with celery_eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/my/", {"email": email})


def emailed_token(outbox=None) -> str:
    """The token of the last sign-in e-mail sent."""
    message = (outbox or mail.outbox)[-1]
    return LINK.search(message.body).group(1)


def sign_in(client, email: str = "patient1@example.org"):
    """Ask for a link and use it, as the patient does; returns the final response."""
    mail.outbox.clear()
    ask_for_link(client, email)
    token = emailed_token()
    return client.post(f"/my/{token}/", follow=True)
