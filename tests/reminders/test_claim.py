"""A reminder's send as a worker runs it (in autocommit, PostgreSQL): the claim is committed
before anything is sent, the row stays locked while it is sent, the outcome is written only
under its own claim, and nothing is left open or locked when the send fails."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
import time_machine
from django.db import connection

from booking import services
from booking.models import Appointment, AppointmentType, Clinician
from reminders import services as reminder_services
from reminders.models import Reminder
from tests.factories import ClinicianFactory, treatment_patient

pytestmark = pytest.mark.django_db(transaction=True)
CLINIC = ZoneInfo("America/New_York")
BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=CLINIC)


def values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def visit(celery_eager):
    """An IV infusion with every optional field filled in: approval, ride confirmed, clinician's details."""
    with time_machine.travel(BOOKED_AT, tick=False):
        clinician = ClinicianFactory(offers=["iv-infusion"], hours=[(day, "07:00", "19:00") for day in range(7)])
        Clinician.objects.filter(pk=clinician.pk).update(credentials="MD", email="dr@clinic.example.org")
        details = services.PatientDetails("Ana Díaz", "ana@example.org", "5550100100")
        appointment = services.appointment_book(
            appointment_type=AppointmentType.objects.get(slug="iv-infusion"),
            clinician_id=clinician.pk,
            start=datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC),
            details=details,
            time_zone="America/Chicago",
            request_key="key-1",
            proven_patient=treatment_patient(details, "iv-infusion"),
        )
    Appointment.objects.filter(pk=appointment.pk).update(ride_confirmed_at=BOOKED_AT, cancel_reason="")
    return appointment


def locked_elsewhere(cursor, row) -> bool:
    cursor.execute("SET lock_timeout = '100ms'")
    try:
        cursor.execute("SELECT 1 FROM booking_reminder WHERE id = %s FOR UPDATE", [row.pk])
    except psycopg2.errors.LockNotAvailable:
        return True
    return False


@pytest.fixture
def elsewhere():
    """A second connection to the same database: what another worker, or staff moving a visit, see."""
    settings_dict = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings_dict["NAME"], user=settings_dict["USER"], host=settings_dict["HOST"], port=settings_dict["PORT"]
    )
    other.autocommit = True
    yield other.cursor()
    other.close()


def row_elsewhere(cursor, row) -> tuple:
    cursor.execute(
        "SELECT status, claim <> '', attempts, lease_until IS NULL FROM booking_reminder WHERE id = %s", [row.pk]
    )
    return cursor.fetchone()


@pytest.fixture
def delivered(monkeypatch, elsewhere):
    """What another connection saw of the row while the e-mail was being handed to SMTP."""
    seen = []
    real = reminder_services._deliver

    def deliver(message):
        seen.append((message.subject, locked_elsewhere(elsewhere, seen_row[0]), row_elsewhere(elsewhere, seen_row[0])))
        real(message)

    seen_row: list[Reminder] = []
    monkeypatch.setattr(reminder_services, "_deliver", deliver)
    return seen, seen_row


def send_when_due(row) -> str:
    with time_machine.travel(row.due_at + timedelta(minutes=1), tick=False):
        return reminder_services.reminder_send(reminder_id=row.pk)


def test_the_claim_is_committed_before_the_send_and_the_row_is_locked_while_it_is_sent(visit, delivered, elsewhere):
    seen, seen_row = delivered
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    seen_row.append(row)
    assert send_when_due(row) == "sent"
    # During the send: claimed (committed, so every other worker sees it), one attempt counted,
    # and locked, so a move or cancel of the visit waits for the send to finish.
    assert seen == [(seen[0][0], True, ("sending", True, row.attempts + 1, False))]
    assert not locked_elsewhere(elsewhere, row)
    assert row_elsewhere(elsewhere, row) == ("sent", True, row.attempts + 1, True)
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_the_send_reads_the_visit_its_patient_type_and_clinician_as_they_are(visit, mailoutbox):
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    assert send_when_due(row) == "sent"
    (message,) = [m for m in mailoutbox if "Getting ready" in m.subject]
    assert message.to == ["ana@example.org"] and "Ana Díaz" in message.body
    assert "ride home" in message.body.lower()  # the IV infusion's own rules, read with the visit


def test_a_reminder_is_not_taken_before_it_is_due_nor_twice(visit):
    row = Reminder.objects.get(appointment=visit, kind="day_before")
    with time_machine.travel(row.due_at - timedelta(seconds=1), tick=False):
        assert reminder_services.reminder_send(reminder_id=row.pk) == "not mine"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert send_when_due(row) == "sent"
    assert send_when_due(row) == "not mine"


def test_a_claim_whose_lease_lapsed_is_taken_by_the_next_worker_and_a_live_one_is_not(visit):
    row = Reminder.objects.get(appointment=visit, kind="day_before")
    now = row.due_at + timedelta(minutes=1)
    Reminder.objects.filter(pk=row.pk).update(status="sending", claim="a" * 32, attempts=1, lease_until=now)
    with time_machine.travel(now - timedelta(seconds=1), tick=False):
        assert reminder_services.reminder_send(reminder_id=row.pk) == "not mine"  # its worker may still be sending
    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        assert reminder_services.reminder_send(reminder_id=row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


def test_the_outcome_is_not_written_once_the_claim_is_lost(visit, monkeypatch):
    """Staff moved the visit while its reminder was being sent: the move reset the row for the
    new time, and the send's outcome must not overwrite that."""
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    real = reminder_services._deliver

    def deliver(message):
        real(message)
        Reminder.objects.filter(pk=row.pk).update(status="pending", claim="")  # what a reopen writes

    monkeypatch.setattr(reminder_services, "_deliver", deliver)
    assert send_when_due(row) == "sent"
    row.refresh_from_db()
    assert (row.status, row.sent_at) == ("pending", None)


def test_a_failed_smtp_attempt_is_recorded_and_leaves_nothing_open(visit, settings):
    settings.EMAIL_BACKEND = "tests.reminders.test_services.RefusingBackend"
    reminder_services._close_mail_connection()
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    assert send_when_due(row) == "retry"
    row.refresh_from_db()
    assert (row.status, row.last_error, row.lease_until) == ("pending", "SMTPRecipientsRefused: 550", None)
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    reminder_services._close_mail_connection()


def test_an_error_while_sending_rolls_back_and_keeps_the_claim_for_its_lease(visit, elsewhere, monkeypatch):
    def broken(reminder, **kwargs):
        raise RuntimeError("a bug while checking the visit")

    monkeypatch.setattr(reminder_services, "_send_claimed", broken)
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    with pytest.raises(RuntimeError):
        send_when_due(row)
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert not locked_elsewhere(elsewhere, row)
    assert row_elsewhere(elsewhere, row) == ("sending", True, row.attempts + 1, False)  # its lease brings it back
