import pytest

from reminders.models import Reminder
from tests.booking.conftest import (
    clinic_time,
    frozen_now,  # noqa: F401 - the booking tests' clock, for visits booked here
)
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening


@pytest.fixture
def records():
    """A booked visit (its patient, clinician, first reminder) and a submitted screening that needs review."""
    visit = book(ClinicianFactory(), clinic_time(9, 10))
    screening = submitted_screening(personas.REVIEW)
    return {
        "visit": visit,
        "patient": visit.patient,
        "screening": screening,
        "clinician": visit.clinician,
        "reminder": Reminder.objects.filter(appointment=visit).first(),
    }
