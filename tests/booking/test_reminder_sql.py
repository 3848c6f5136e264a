"""The hand-written statements of a reminder's send (booking/reminder_sql.py) against the ORM they replace."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from booking import reminder_sql, services
from booking.models import Appointment, AppointmentType, Clinician, Patient, Reminder
from tests.factories import ClinicianFactory

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
        appointment = services.appointment_book(
            appointment_type=AppointmentType.objects.get(slug="iv-infusion"),
            clinician_id=clinician.pk,
            start=datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC),
            details=services.PatientDetails("Ana Díaz", "ana@example.org", "5550100100"),
            time_zone="America/Chicago",
            request_key="key-1",
        )
    Appointment.objects.filter(pk=appointment.pk).update(ride_confirmed_at=BOOKED_AT, cancel_reason="")
    Patient.objects.filter(pk=appointment.patient_id).update(approved_for_treatment_at=BOOKED_AT)
    return appointment


def claimed(appointment, kind: str) -> tuple[Reminder, str]:
    row = Reminder.objects.get(appointment=appointment, kind=kind)
    now = row.due_at + timedelta(minutes=1)
    claim = "c" * 32
    assert reminder_sql.claim(
        reminder_id=row.pk, claim=claim, lease_until=now + timedelta(minutes=2), now=now, max_attempts=5
    )
    return row, claim


def test_the_read_gives_what_the_orm_gives_for_the_reminder_its_visit_patient_type_and_clinician(visit):
    row, claim = claimed(visit, "preparation")
    expected = Reminder.objects.select_related(
        "appointment__patient", "appointment__appointment_type", "appointment__clinician"
    ).get(pk=row.pk)
    with transaction.atomic():
        got = reminder_sql.read_locked(reminder_id=row.pk, claim=claim)
    assert values(got) == values(expected)
    assert values(got.appointment) == values(expected.appointment)
    assert values(got.appointment.patient) == values(expected.appointment.patient)
    assert values(got.appointment.appointment_type) == values(expected.appointment.appointment_type)
    assert values(got.appointment.clinician) == values(expected.appointment.clinician)
    assert got.appointment.video_room == visit.video_room and got.appointment.clinician.credentials == "MD"
    assert got.status == "sending" and got.attempts == 1
    assert got.due_at.tzinfo is not None and got.appointment.ride_confirmed_at == BOOKED_AT


def test_the_read_finds_nothing_once_the_claim_is_lost(visit):
    row, claim = claimed(visit, "preparation")
    with transaction.atomic():
        assert reminder_sql.read_locked(reminder_id=row.pk, claim="someone-else") is None
    for status in (Reminder.Status.SENT, Reminder.Status.CANCELLED):  # its own claim, but done with
        Reminder.objects.filter(pk=row.pk).update(status=status)
        with transaction.atomic():
            assert reminder_sql.read_locked(reminder_id=row.pk, claim=claim) is None
    Reminder.objects.filter(pk=row.pk).update(claim="", status=Reminder.Status.PENDING)  # a move reopened it
    with transaction.atomic():
        assert reminder_sql.read_locked(reminder_id=row.pk, claim=claim) is None


def test_a_claim_is_taken_once_and_never_before_the_row_is_due(visit):
    row = Reminder.objects.get(appointment=visit, kind="day_before")
    early, due = row.due_at - timedelta(seconds=1), row.due_at
    lease = due + timedelta(minutes=2)
    assert not reminder_sql.claim(reminder_id=row.pk, claim="a" * 32, lease_until=lease, now=early, max_attempts=5)
    assert reminder_sql.claim(reminder_id=row.pk, claim="a" * 32, lease_until=lease, now=due, max_attempts=5)
    assert not reminder_sql.claim(reminder_id=row.pk, claim="b" * 32, lease_until=lease, now=due, max_attempts=5)
    # Once the first claim's lease has lapsed (its worker died), another worker may take it.
    later = lease + timedelta(seconds=1)
    assert reminder_sql.claim(reminder_id=row.pk, claim="b" * 32, lease_until=later, now=later, max_attempts=5)
    row.refresh_from_db()
    assert (row.claim, row.attempts, row.status) == ("b" * 32, 2, "sending")


def test_the_outcome_is_written_only_under_its_own_claim(visit):
    row, claim = claimed(visit, "day_before")
    now = timezone.now()
    reminder_sql.finish(reminder_id=row.pk, claim="not-mine", status="sent", now=now, sent_at=now)
    row.refresh_from_db()
    assert row.status == "sending" and row.sent_at is None
    retry_at = now + timedelta(minutes=2)
    reminder_sql.finish(
        reminder_id=row.pk, claim=claim, status="pending", now=now, error="SMTPDataError: 451", due_at=retry_at
    )
    row.refresh_from_db()
    assert (row.status, row.last_error, row.due_at, row.lease_until) == (
        "pending",
        "SMTPDataError: 451",
        retry_at,
        None,
    )


def test_the_statements_are_prepared_again_on_a_new_connection(visit):
    row, claim = claimed(visit, "day_before")
    connection.close()  # as after a dropped connection: the next one has no prepared statements
    with transaction.atomic():
        assert reminder_sql.read_locked(reminder_id=row.pk, claim=claim).pk == row.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
        assert [name for (name,) in cursor.fetchall()] == ["booking_reminder_read"]


def test_each_statement_finds_its_row_by_the_primary_key_even_with_every_row_queued_since_the_last_analyze(visit):
    """A burst: many reminders queued at once, after ANALYZE last saw none queued. A prepared
    statement's generic plan that reached the row through the partial index of open leases would
    read every queued row for each send (3,000 queued: 1.1 ms per read instead of 0.1 ms, and
    the benchmark's PostgreSQL 2.2 instead of 1.0 ms per e-mail; bench/README.md)."""
    row, claim = claimed(visit, "preparation")
    now = row.due_at + timedelta(minutes=1)
    params = {"id": row.pk, "claim": claim, "lease": now, "now": now, "max_attempts": 5, "status": "sent"}
    params |= {"sent_at": now, "error": "", "due_at": None}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_reminder")
        Reminder.objects.exclude(pk=row.pk).update(status=Reminder.Status.QUEUED, lease_until=now)
        with transaction.atomic():
            # The plan a prepared statement keeps after five runs; and no sequential scan, which on
            # this test's few rows would be the cheapest and hide the choice between indexes.
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off")
            for statement in (reminder_sql.CLAIM, reminder_sql.READ, reminder_sql.FINISH):
                statement.prepare(cursor)
                cursor.execute(f"EXPLAIN {statement.execute_sql}", params)
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert "booking_reminder_pkey" in plan, plan
                assert "reminder_lease_open" not in plan and "reminder_due_pending" not in plan, plan


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


def take_in_one_round_trip(row, *, claim="d" * 32):
    now = row.due_at + timedelta(minutes=1)
    assert reminder_sql.one_round_trip()  # autocommit, as in a worker
    return reminder_sql.claim_and_read_locked(
        reminder_id=row.pk, claim=claim, lease_until=now + timedelta(minutes=2), now=now, max_attempts=5
    )


def locked_elsewhere(cursor, row) -> bool:
    cursor.execute("SET lock_timeout = '100ms'")
    try:
        cursor.execute("SELECT 1 FROM booking_reminder WHERE id = %s FOR UPDATE", [row.pk])
    except psycopg2.errors.LockNotAvailable:
        return True
    return False


def test_in_one_round_trip_the_claim_is_committed_and_the_row_stays_locked_until_its_outcome(visit, elsewhere):
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    attempts_before = row.attempts

    reminder = take_in_one_round_trip(row)

    # The same objects as the two-step read gives, from one round trip.
    assert reminder.pk == row.pk and reminder.appointment.patient.full_name == "Ana Díaz"
    assert reminder.appointment.video_room == visit.video_room and reminder.appointment.clinician.credentials == "MD"
    elsewhere.execute("SELECT status, claim, attempts FROM booking_reminder WHERE id = %s", [row.pk])
    assert elsewhere.fetchone() == ("sending", "d" * 32, attempts_before + 1)  # committed before the send
    assert locked_elsewhere(elsewhere, row)  # a move or cancel waits for the send

    sent_at = timezone.now()
    reminder_sql.finish(reminder_id=row.pk, claim="d" * 32, status="sent", now=sent_at, sent_at=sent_at, commit=True)

    assert not locked_elsewhere(elsewhere, row)
    elsewhere.execute("SELECT status, lease_until FROM booking_reminder WHERE id = %s", [row.pk])
    assert elsewhere.fetchone() == ("sent", None)
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_send_undone_keeps_its_claim_and_counted_attempt_and_frees_the_row(visit, elsewhere):
    row = Reminder.objects.get(appointment=visit, kind="preparation")

    assert take_in_one_round_trip(row) is not None
    reminder_sql.rollback()  # the worker's send failed in a way it could not record

    assert not locked_elsewhere(elsewhere, row)
    elsewhere.execute("SELECT status, claim, attempts FROM booking_reminder WHERE id = %s", [row.pk])
    assert elsewhere.fetchone() == ("sending", "d" * 32, row.attempts + 1)  # its lease brings it back
    assert take_in_one_round_trip(row, claim="e" * 32) is None  # nobody takes it before the lease lapses
    reminder_sql.end()
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_one_round_trip_is_not_used_inside_a_transaction_of_the_callers():
    with transaction.atomic():
        assert not reminder_sql.one_round_trip()  # its COMMIT would end the caller's transaction


def test_a_transaction_left_open_by_a_task_is_closed_before_the_next(visit, elsewhere, caplog):
    from telemed.celery import end_stray_transactions

    row = Reminder.objects.get(appointment=visit, kind="preparation")
    assert take_in_one_round_trip(row) is not None  # and then, say, the task was killed by its soft limit
    assert locked_elsewhere(elsewhere, row)

    end_stray_transactions()

    assert not locked_elsewhere(elsewhere, row)
    assert "left a database transaction open" in caplog.text
    assert Reminder.objects.filter(pk=row.pk, status="sending").exists()  # the claim stays; its lease brings it back


def test_a_failed_smtp_attempt_in_one_round_trip_is_recorded_and_the_connection_left_idle(visit, settings):
    settings.EMAIL_BACKEND = "tests.booking.test_reminders.RefusingBackend"
    services._close_mail_connection()
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    with time_machine.travel(row.due_at + timedelta(minutes=1), tick=False):
        assert reminder_sql.one_round_trip()
        assert services.reminder_send(reminder_id=row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.last_error) == ("pending", "SMTPRecipientsRefused: 550")
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    services._close_mail_connection()


def test_an_error_while_sending_in_one_round_trip_rolls_back_and_keeps_the_claim(visit, elsewhere, monkeypatch):
    def broken(reminder, **kwargs):
        raise RuntimeError("a bug while checking the visit")

    monkeypatch.setattr(services, "_send_claimed", broken)
    row = Reminder.objects.get(appointment=visit, kind="preparation")
    with time_machine.travel(row.due_at + timedelta(minutes=1), tick=False), pytest.raises(RuntimeError):
        services.reminder_send(reminder_id=row.pk)
    assert connection.connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert not locked_elsewhere(elsewhere, row)
    elsewhere.execute("SELECT status, attempts FROM booking_reminder WHERE id = %s", [row.pk])
    assert elsewhere.fetchone() == ("sending", row.attempts + 1)
