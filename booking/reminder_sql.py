"""The three statements of one reminder's send, hand-written and prepared once per connection.

A worker sends hundreds of reminders a second at peak, and through the ORM each send spent more time
compiling its queries (a five-table read, two UPDATEs) than PostgreSQL spent running them, and
PostgreSQL more time planning them than executing them (bench/README.md, Reminders). The statements
below do what `reminder_send` did through the ORM; `tests/booking/test_reminder_sql.py` checks that
the read gives the same objects as the ORM's.
"""

from contextlib import suppress
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, Error, connection

from booking.models import Appointment, AppointmentType, Clinician, Patient, Reminder
from telemed.prepared import Prepared

_table = Reminder._meta.db_table
SENDING, PENDING, QUEUED = (Reminder.Status.SENDING.value, Reminder.Status.PENDING.value, Reminder.Status.QUEUED.value)

CLAIM = Prepared(
    name="booking_reminder_claim",
    sql=f"""
UPDATE {_table}
   SET status = '{SENDING}', claim = %(claim)s, lease_until = %(lease)s, attempts = attempts + 1, updated_at = %(now)s
 WHERE id = %(id)s AND due_at <= %(now)s
   AND (status IN ('{PENDING}', '{QUEUED}')
        OR (status = '{SENDING}' AND lease_until < %(now)s AND attempts < %(max_attempts)s))""",  # noqa: S608 - constants only
    parameters=(
        ("id", "bigint"),
        ("claim", "varchar"),
        ("lease", "timestamptz"),
        ("now", "timestamptz"),
        ("max_attempts", "integer"),
    ),
)

# The reminder with its visit, patient, type and clinician, in that order, every concrete field of each.
_JOINED = (
    ("r", Reminder, None),
    ("a", Appointment, "a.id = r.appointment_id"),
    ("p", Patient, "p.id = a.patient_id"),
    ("t", AppointmentType, "t.id = a.appointment_type_id"),
    ("c", Clinician, "c.id = a.clinician_id"),
)
_FIELDS = {model: [field.attname for field in model._meta.concrete_fields] for _alias, model, _on in _JOINED}
_STATUS = _FIELDS[Reminder].index("status")  # the reminder's fields come first in a row of READ
_columns = ", ".join(
    f'{alias}."{field.column}"' for alias, model, _on in _JOINED for field in model._meta.concrete_fields
)
_joins = " ".join(f"JOIN {model._meta.db_table} {alias} ON {on}" for alias, model, on in _JOINED[1:])
READ = Prepared(
    name="booking_reminder_read",
    # Only while this worker's claim stands (its token is drawn for this send alone, and whatever
    # takes a row back clears it); the row stays locked until the send's transaction ends. No
    # condition on the status here (_reminder_from_row checks it): `status = 'sending'` would let
    # the plan a prepared statement keeps reach the row through the partial index of open leases,
    # reading every queued row for each send: 1.1 ms per read with 3,000 queued, and quadratic in a
    # burst (bench/README.md).
    sql=f"SELECT {_columns} FROM {_table} r {_joins} WHERE r.id = %(id)s AND r.claim = %(claim)s"  # noqa: S608
    " FOR UPDATE OF r",
    parameters=(("id", "bigint"), ("claim", "varchar")),
)

FINISH = Prepared(
    name="booking_reminder_finish",
    # The outcome of a claimed send: sent, cancelled, failed, or pending again at a later `due_at`.
    sql=f"""
UPDATE {_table}
   SET status = %(status)s, sent_at = %(sent_at)s, lease_until = NULL, last_error = %(error)s,
       due_at = COALESCE(%(due_at)s, due_at), updated_at = %(now)s
 WHERE id = %(id)s AND claim = %(claim)s""",  # noqa: S608 - constants only
    parameters=(
        ("id", "bigint"),
        ("claim", "varchar"),
        ("status", "varchar"),
        ("sent_at", "timestamptz"),
        ("error", "varchar"),
        ("due_at", "timestamptz"),
        ("now", "timestamptz"),
    ),
)


def claim(*, reminder_id: int, claim: str, lease_until: datetime, now: datetime, max_attempts: int) -> bool:
    """Take the row for this send, if it is due and free (or its last claim has lapsed); committed at once."""
    params = {"id": reminder_id, "claim": claim, "lease": lease_until, "now": now, "max_attempts": max_attempts}
    with connection.cursor() as cursor:
        CLAIM.execute(cursor, params)
        return cursor.rowcount == 1


def one_round_trip() -> bool:
    """Whether claim_and_read_locked() can be used: PostgreSQL, in autocommit (as in a worker), not
    inside a transaction of the caller's (tests run inside one), which its COMMIT would end."""
    return connection.vendor == "postgresql" and connection.get_autocommit() and not connection.in_atomic_block


def claim_and_read_locked(
    *, reminder_id: int, claim: str, lease_until: datetime, now: datetime, max_attempts: int
) -> Reminder | None:
    """claim() and read_locked() in one round trip instead of five, for one_round_trip() callers.

    The claim is committed in a transaction of its own, as claim() commits it; then the send's own
    transaction is opened with the row read and locked, and stays open: the caller ends it with
    finish(..., commit=True), end() or rollback(). Each round trip to PostgreSQL cost some 130 us of
    CPU on the client and the server together, more than most of the statements themselves
    (bench/README.md). None if the row was not claimed (not due, or another worker has it): the
    transaction is open all the same."""
    params: dict[str, Any] = {
        "id": reminder_id,
        "claim": claim,
        "lease": lease_until,
        "now": now,
        "max_attempts": max_attempts,
    }
    with connection.cursor() as cursor:
        for statement in (CLAIM, READ, FINISH):  # outside the send's transaction, once per connection
            statement.prepare(cursor)
        # The claim's commit does not wait for its WAL to reach the disk (synchronous_commit off for
        # that transaction only): other workers see it at once all the same, and the outcome's
        # commit, which does wait, writes it to disk with it. Only a crash of PostgreSQL itself
        # between the two could lose it, and then the outcome is lost too and the e-mail may be
        # sent again, as it would be with the claim kept (README: the one guarantee SMTP cannot give).
        try:
            cursor.execute(
                f"BEGIN; SET LOCAL synchronous_commit = off; {CLAIM.execute_sql}; COMMIT; BEGIN; {READ.execute_sql}",
                params,
            )
            row = cursor.fetchone()
            return _reminder_from_row(row)
        except BaseException:  # a time limit or an error after the BEGIN: never leave the row locked
            rollback()
            raise


def end() -> None:
    """End the transaction claim_and_read_locked() opened, having written nothing."""
    with connection.cursor() as cursor:
        cursor.execute("COMMIT")


def rollback() -> None:
    """Undo the transaction claim_and_read_locked() opened (the claim stays: it was committed). On a
    broken connection there is nothing to undo: the server ended the transaction with it."""
    with suppress(Error), connection.cursor() as cursor:
        cursor.execute("ROLLBACK")


def read_locked(*, reminder_id: int, claim: str) -> Reminder | None:
    """The claimed reminder, locked, with `.appointment` and its patient, type and clinician; None if the
    claim was lost (the visit was moved or cancelled meanwhile)."""
    if connection.vendor != "postgresql":  # SQLite in development: no row locks, the ORM's read
        return (
            Reminder.objects.select_related(
                "appointment__patient", "appointment__appointment_type", "appointment__clinician"
            )
            .filter(pk=reminder_id, claim=claim, status=SENDING)
            .first()
        )
    with connection.cursor() as cursor:
        READ.execute(cursor, {"id": reminder_id, "claim": claim})
        row = cursor.fetchone()
    return _reminder_from_row(row)


def _reminder_from_row(row) -> Reminder | None:
    """The reminder READ found, with its visit and the rest; None if it found none, or one no
    longer being sent."""
    if row is None or row[_STATUS] != SENDING:
        return None
    objects: list[Any] = []  # one model instance per joined table, in _JOINED order
    offset = 0
    for _alias, model, _on in _JOINED:
        names = _FIELDS[model]
        objects.append(model.from_db(DEFAULT_DB_ALIAS, names, row[offset : offset + len(names)]))
        offset += len(names)
    reminder, appointment, patient, appointment_type, clinician = objects
    appointment.patient, appointment.appointment_type, appointment.clinician = patient, appointment_type, clinician
    reminder.appointment = appointment
    return reminder


def finish(
    *,
    reminder_id: int,
    claim: str,
    status: str,
    now: datetime,
    sent_at: datetime | None = None,
    error: str = "",
    due_at: datetime | None = None,
    commit: bool = False,
) -> None:
    """Record the outcome, only while this send's claim stands; with `commit`, and in the same round
    trip, end the transaction claim_and_read_locked() opened."""
    params: dict[str, Any] = {
        "id": reminder_id,
        "claim": claim,
        "status": status,
        "sent_at": sent_at,
        "error": error,
        "due_at": due_at,
        "now": now,
    }
    with connection.cursor() as cursor:
        if commit:
            FINISH.prepare(cursor)
            cursor.execute(f"{FINISH.execute_sql}; COMMIT", params)
        else:
            FINISH.execute(cursor, params)
