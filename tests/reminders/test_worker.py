"""Reminders through real Celery workers, real PostgreSQL and Redis, and a real SMTP server.

Every e-mail here travels over SMTP to tests/smtp_sink.py; "sent twice" means the SMTP server
accepted the same message for the same patient twice.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from booking import services
from booking.models import Appointment, AppointmentType, Patient
from reminders import services as reminder_services
from reminders.models import Reminder
from telemed.celery import app
from tests.factories import ClinicianFactory
from tests.smtp_sink import SmtpSink
from tests.threads import run_at_once
from tests.workers import wait_until_drained

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sink(settings):
    with SmtpSink() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        reminder_services._close_mail_connection()
        app.control.purge()  # nothing left over in the test broker from an earlier run
        yield server
        app.control.purge()


def visits(count: int, *, slug: str = "consultation") -> list[Appointment]:
    """Visits booked now, starting 13 to 17 hours from now: their confirmation and day-before
    reminder are both due at once.

    Created in the database directly (the slot engine is tested elsewhere), their reminders by
    the same service the booking flow uses.
    """
    clinicians = [ClinicianFactory(offers=[slug]) for _ in range(10)]
    appointment_type = AppointmentType.objects.get(slug=slug)
    start = timezone.now() + timedelta(hours=13)
    made = []
    for n in range(count):
        clinician = clinicians[n % 10]
        with transaction.atomic():
            patient = Patient.objects.create(full_name=f"Patient {n}", email=f"p{n}@example.org", phone="5550100")
            begin = start + (n // 10) * timedelta(hours=1)
            end, blocked_start, blocked_end = services.visit_times(appointment_type, begin)
            appointment = Appointment.objects.create(
                patient=patient,
                clinician=clinician,
                appointment_type=appointment_type,
                start=begin,
                end=end,
                blocked_start=blocked_start,
                blocked_end=blocked_end,
            )
            reminder_services.reminders_sync(appointment=appointment, now=timezone.now())
        made.append(appointment)
    return made


def wait_until_settled(timeout: float) -> None:
    """Until no reminder is waiting, queued or being sent (due ones only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Reminder.objects.filter(status__in=reminder_services.OPEN_STATUSES, due_at__lte=timezone.now()).exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"still open: {list(Reminder.objects.values_list('kind', 'status'))}")


def test_a_queued_send_carries_the_reminder_id_and_nothing_about_the_patient_or_the_visit(sink):
    """What waits in Redis, and what a worker's log or a monitoring tool shows of a task, is the
    reminder's id: no name, e-mail address or phone number, nor what the visit is for."""
    made = visits(3, slug="iv-infusion")  # the preparation reminder is due too: all kinds of text
    # Their confirmations were queued at once; once marked sent, the others (which wait for the
    # confirmation) are queued by the dispatcher's pass.
    Reminder.objects.filter(kind="confirmation").update(status="sent", lease_until=None)
    reminder_services.reminders_dispatch()
    due = set(Reminder.objects.filter(due_at__lte=timezone.now()).values_list("pk", flat=True))
    queued = redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1)
    assert len(due) >= 6 and queued
    for raw in queued:
        envelope = json.loads(raw)
        body = base64.b64decode(envelope["body"])
        (reminder_id,), kwargs, _embed = json.loads(body)
        assert reminder_id in due and kwargs == {}
        headers = envelope["headers"]
        assert headers["task"] == "reminders.tasks.send_reminder"
        assert (headers["argsrepr"], headers["kwargsrepr"]) == (f"({reminder_id},)", "{}")
        headers.pop("origin")  # the queueing process and this machine's name: not the test's to choose
        seen = (body + json.dumps([headers, envelope["properties"]]).encode()).lower()
        for appointment in made:
            for private in (appointment.patient.full_name, appointment.patient.email, appointment.patient.phone):
                assert private.lower().encode() not in seen
        assert b"infusion" not in seen and b"ketamine" not in seen
    assert {json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in queued} == due


@pytest.mark.parametrize("pool", [{"pool": "solo"}, {"pool": "threads", "concurrency": 4}], ids=["solo", "threads"])
def test_every_due_reminder_is_sent_exactly_once_over_smtp_each_to_its_own_patient(sink, pool):
    """Under the threads pool, sends run at once in one process: each thread keeps its own SMTP connection."""
    with start_worker(app, **pool, perform_ping_check=False, shutdown_timeout=10):
        made = visits(15)  # each: a confirmation and (the visit is 20 h away) the day-before reminder
        reminder_services.reminders_dispatch()  # the beat's pass; queued-on-commit sends may already be done
        wait_until_settled(30)
        wait_until_drained()  # no message left that could send one twice
    counts = sink.counts()
    assert len(counts) == 30 and set(counts.values()) == {1}
    for appointment in made:  # the confirmation, and the reminder (today or tomorrow, by the clock now)
        subjects = sorted(subject for to, subject in counts if to == appointment.patient.email)
        assert subjects[0] == "Your appointment is confirmed"
        assert subjects[1] in {"Your appointment is today", "Your appointment is tomorrow"}
    assert {to for to, _subject in counts} == {appointment.patient.email for appointment in made}
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    with connection.cursor() as cursor:  # the pool's threads are gone; their connections are not
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    names = {appointment.patient.email: appointment.patient.full_name for appointment in made}
    for message in sink.messages:  # no patient's e-mail carries another's name
        assert f"Hello {names[message.recipient]},".encode() in message.content


def test_two_dispatchers_at_once_queue_each_reminder_once_and_send_it_once(sink):
    made = visits(20)
    # As if the workers had been down: every reminder waiting, none queued yet.
    app.control.purge()
    Reminder.objects.update(status="pending", attempts=0, claim="", lease_until=None)
    queued = []
    run_at_once(lambda: queued.append(reminder_services.reminders_dispatch(batch_size=3)), 2)
    # SKIP LOCKED shared the rows: none was queued by both. The confirmations only: each visit's
    # day-before reminder waits for its confirmation, and follows it once it is sent.
    assert sum(queued) == 20, queued
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        wait_until_settled(30)
        wait_until_drained()
    assert len(sink.counts()) == 40 and set(sink.counts().values()) == {1}
    for appointment in made:
        subjects = [m.subject for m in sink.messages if m.recipient == appointment.patient.email]
        assert subjects[0] == "Your appointment is confirmed" and len(subjects) == 2


def test_cancelled_and_moved_visits_get_no_stale_reminder_from_messages_already_queued(sink):
    kept, cancelled, moved = visits(3)
    app.control.purge()
    Reminder.objects.update(status="pending", attempts=0, claim="", lease_until=None)
    # Three confirmations wait in Redis (no worker is running yet); the day-before reminders wait
    # for them.
    assert reminder_services.reminders_dispatch() == 3
    # Staff cancel one and move another in the admin (within the online cutoff: only staff can).
    with transaction.atomic():
        cancelled.status = Appointment.Status.CANCELLED
        cancelled.save(update_fields=["status"])
        reminder_services.reminders_sync(appointment=cancelled, now=timezone.now())
        moved.start = moved.start + timedelta(days=3)
        services.appointment_staff_save(appointment=moved, changed=frozenset({"start"}))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        wait_until_settled(30)
        wait_until_drained()
    recipients = [message.recipient for message in sink.messages]
    assert sorted(recipients) == sorted([kept.patient.email] * 2 + [moved.patient.email, cancelled.patient.email])
    assert [m.subject for m in sink.messages if m.recipient == cancelled.patient.email] == [
        "Your appointment is cancelled"
    ]
    # The moved visit: word of the new time at once; its day-before reminder waits for the new day.
    assert [m.subject for m in sink.messages if m.recipient == moved.patient.email] == ["Your appointment has moved"]
    assert moved.reminders.get(kind="day_before").status == "pending"
    assert dict(cancelled.reminders.values_list("kind", "status")) == {
        "confirmation": "cancelled",
        "day_before": "cancelled",
        "cancellation": "sent",
    }


def worker_process(database: str, sink_port: int, name: str) -> subprocess.Popen:
    """A separate `celery worker` process as in production (prefork, so the hard time limit is
    enforced), with one child: one e-mail in flight at a time."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink_port}",
        # Short limits so a dead worker's claim lapses within the test: 8 s + 1 s margin.
        "CELERY_TASK_TIME_LIMIT": "8",
        "REMINDER_CLAIM_MARGIN_SECONDS": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "telemed",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-n",
            f"{name}@%h",
            "-l",
            "WARNING",
        ],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(names: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = {name.split("@")[0] for reply in app.control.ping(timeout=0.5) for name in reply}
        if names <= answered:
            return
    raise AssertionError(f"workers not ready: {names}")


@pytest.mark.slow
def test_a_worker_killed_mid_send_loses_nothing_and_duplicates_at_most_its_one_message_in_flight(settings):
    """Two workers share 80 reminders of 80 visits; one is killed (SIGKILL) while it is sending.

    The SMTP server holds its replies after 20 messages, so both workers are caught mid-send: each
    has handed over a whole message and waits for the server's "250". The doomed worker is killed
    there. Its message is already with the server (the server records it when released), and its
    row is still "sending": this is the window that allows one duplicate. Nothing can tell that
    message from a lost one, so once the claim lapses (the task's time limit plus the margin) the
    reminder is sent again. A worker with one child has one message in flight, so one killed worker causes
    at most one duplicate; every other reminder arrives exactly once.
    """
    # Longer than the workers take to send all 80, so the dispatch below (every second) queues a
    # row again only when its claim lapsed: a shorter queue lease re-queued every row still
    # waiting each second, and the pile of stale messages outlasted the drain on a loaded machine.
    settings.REMINDER_QUEUE_LEASE = timedelta(seconds=45)
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{connection.settings_dict['NAME']}"
    with SmtpSink(hold_after=20) as sink:
        visits(80)
        app.control.purge()
        # One reminder per visit (a send holds its visit, so two of one visit would wait in turn).
        Reminder.objects.filter(kind="confirmation").update(status="sent")
        Reminder.objects.filter(kind="day_before").update(status="pending", attempts=0, claim="", lease_until=None)
        doomed, survivor = worker_process(url, sink.port, "doomed"), worker_process(url, sink.port, "survivor")
        replacement = None
        try:
            wait_ready({"doomed", "survivor"})  # both at work before the first message: neither is held long
            reminder_services.reminders_dispatch()
            assert sink.wait_until_held(2, timeout=60), "the workers did not both reach the server"
            in_flight = set(Reminder.objects.filter(status="sending").values_list("pk", flat=True))
            assert len(in_flight) == 2
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
            sink.handler.release.set()
            replacement = worker_process(url, sink.port, "replacement")
            deadline = time.monotonic() + 90
            while Reminder.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
                reminder_services.reminders_dispatch()  # the beat, every second here instead of every minute
                time.sleep(1)
            wait_until_drained(remote=app)
        finally:
            for process in (survivor, replacement, doomed):
                if process and process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
            app.control.purge()
    counts = sink.counts()
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert len(counts) == 80 and len({to for to, _subject in counts}) == 80, "a reminder was lost"
    duplicates = {key: n for key, n in counts.items() if n > 1}
    assert sum(n - 1 for n in duplicates.values()) == 1, duplicates  # the killed worker's message in flight
    # That one reminder was claimed twice (the dead worker's claim lapsed); the survivor's was not.
    retried = set(Reminder.objects.filter(attempts=2).values_list("pk", flat=True))
    assert len(retried) == 1 and retried < in_flight
