"""Reminders: when each kind is due (pure, across DST), how rows follow their visit, and the send
path's guarantees, tested in-process. A real worker, Redis and SMTP: test_reminder_worker.py.

Database tests here are transactional: reminders are queued when the booking commits, as in
production, so the commit must really happen."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from booking import services
from booking.models import Appointment, AppointmentType
from reminders import services as reminder_services
from reminders import timing
from reminders.models import Reminder, ReminderRule
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in, treatment_patient

NEW_YORK, SYDNEY = "America/New_York", "Australia/Sydney"
EARLY = datetime(2020, 1, 1, tzinfo=UTC)  # a "now" long before every visit below


def at(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


PREP = timing.Rule("preparation", 48 * 60)
DAY_BEFORE = timing.Rule("day_before", 24 * 60)
FOLLOW_UP = timing.Rule("follow_up", -24 * 60, time(10, 0))


@pytest.mark.parametrize(
    ("rule", "zone", "start", "expected"),
    [
        # An ordinary week: same clock time, earlier days.
        (PREP, NEW_YORK, at(NEW_YORK, 2026, 12, 10, 9), utc(2026, 12, 8, 14)),
        (DAY_BEFORE, NEW_YORK, at(NEW_YORK, 2026, 12, 10, 9), utc(2026, 12, 9, 14)),
        # Spring forward (Sunday 8 March 2026): 9 AM EDT Monday -> 9 AM EST Saturday, 49 hours
        # earlier by the clock on the wall, not 48.
        (PREP, NEW_YORK, at(NEW_YORK, 2026, 3, 9, 9), utc(2026, 3, 7, 14)),
        (DAY_BEFORE, NEW_YORK, at(NEW_YORK, 2026, 3, 9, 9), utc(2026, 3, 8, 13)),
        # Fall back (Sunday 1 November 2026): 9 AM EST Monday -> 9 AM EDT Saturday, 47 hours.
        (PREP, NEW_YORK, at(NEW_YORK, 2026, 11, 2, 9), utc(2026, 10, 31, 13)),
        (DAY_BEFORE, NEW_YORK, at(NEW_YORK, 2026, 11, 2, 9), utc(2026, 11, 1, 14)),
        # A clock time that does not exist (2:30 AM on 8 March) is read on the old clock: 3:30 AM EDT.
        (DAY_BEFORE, NEW_YORK, at(NEW_YORK, 2026, 3, 9, 2, 30), utc(2026, 3, 8, 7, 30)),
        # A clock time that happens twice (1:30 AM on 1 November): the first, still EDT.
        (DAY_BEFORE, NEW_YORK, at(NEW_YORK, 2026, 11, 2, 1, 30), utc(2026, 11, 1, 5, 30)),
        # The follow-up: 10 AM the next day, across the spring-forward night.
        (FOLLOW_UP, NEW_YORK, at(NEW_YORK, 2026, 3, 7, 15), utc(2026, 3, 8, 14)),
        (FOLLOW_UP, NEW_YORK, at(NEW_YORK, 2026, 10, 31, 15), utc(2026, 11, 1, 15)),
        # Southern hemisphere: Sydney leaves summer time on Sunday 5 April 2026 (+11 -> +10) and
        # starts it on Sunday 4 October 2026 (+10 -> +11).
        (PREP, SYDNEY, at(SYDNEY, 2026, 4, 6, 10), utc(2026, 4, 3, 23)),
        (DAY_BEFORE, SYDNEY, at(SYDNEY, 2026, 4, 6, 10), utc(2026, 4, 5, 0)),
        (PREP, SYDNEY, at(SYDNEY, 2026, 10, 5, 10), utc(2026, 10, 3, 0)),
        (FOLLOW_UP, SYDNEY, at(SYDNEY, 2026, 10, 3, 15), utc(2026, 10, 3, 23)),
    ],
)
def test_reminders_fall_on_the_patients_clock(rule, zone, start, expected):
    assert timing.due_at(rule=rule, start=start, time_zone=zone, now=EARLY) == expected


def test_a_patient_in_another_zone_is_reminded_on_their_own_clock():
    # A video visit at noon in New York is 9 AM in Los Angeles: the day-before reminder comes at 9 AM there.
    start = at(NEW_YORK, 2026, 12, 10, 12)
    follow = timing.Rule("follow_up", -24 * 60, time(10, 0))
    assert timing.due_at(rule=DAY_BEFORE, start=start, time_zone="America/Los_Angeles", now=EARLY) == utc(
        2026, 12, 9, 17
    )
    assert timing.due_at(rule=follow, start=start, time_zone="America/Los_Angeles", now=EARLY) == utc(2026, 12, 11, 18)


def test_the_confirmation_is_due_at_once():
    now = utc(2026, 12, 1, 12)
    rule = timing.Rule("confirmation", 0)
    assert timing.due_at(rule=rule, start=at(NEW_YORK, 2026, 12, 10, 9), time_zone=NEW_YORK, now=now) == now


@pytest.mark.parametrize(
    ("rule", "hours_ahead", "expected"),
    [
        (PREP, 30, "now"),  # booked 30 h ahead: fasting times are sent at once
        (PREP, 49, "later"),
        (DAY_BEFORE, 13, "now"),
        (DAY_BEFORE, 25, "later"),
        (PREP, -1, None),  # the visit has started: nothing before it is sent any more
        (DAY_BEFORE, 0, None),
    ],
)
def test_a_reminder_whose_moment_has_passed_is_sent_at_once_while_the_visit_is_ahead(rule, hours_ahead, expected):
    now = utc(2026, 12, 1, 12)
    start = now + timedelta(hours=hours_ahead)
    due = timing.due_at(rule=rule, start=start, time_zone=NEW_YORK, now=now)
    assert {"now": due == now, "later": due is not None and due > now, None: due is None}[expected]


@pytest.mark.parametrize(
    ("kind", "start_offset", "due_offset", "useful"),
    [
        ("preparation", timedelta(hours=1), timedelta(hours=-47), True),
        ("preparation", timedelta(0), timedelta(hours=-48), False),
        ("day_before", timedelta(minutes=-5), timedelta(hours=-24), False),
        ("confirmation", timedelta(minutes=-1), timedelta(days=-3), False),
        ("follow_up", timedelta(days=-1), timedelta(days=-2), True),
        ("follow_up", timedelta(days=-3), timedelta(days=-2, seconds=-1), False),
    ],
)
def test_still_useful(kind, start_offset, due_offset, useful):
    now = utc(2026, 12, 1, 12)
    assert timing.still_useful(kind=kind, start=now + start_offset, due=now + due_offset, now=now) is useful


def test_retries_back_off_to_an_hour():
    assert [timing.retry_delay(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


# --- Rows follow their visit ---------------------------------------------------------------------

CLINIC = ZoneInfo(NEW_YORK)
BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=CLINIC)  # a Tuesday


def book(slug: str, start: datetime, *, n: int = 1, zone: str = NEW_YORK) -> Appointment:
    clinician = ClinicianFactory(offers=[slug], hours=[(day, "07:00", "19:00") for day in range(7)])
    appointment_type = AppointmentType.objects.get(slug=slug)
    details = services.PatientDetails(f"Patient {n}", f"patient{n}@example.org", "5550100100")
    return services.appointment_book(
        appointment_type=appointment_type,
        clinician_id=clinician.pk,
        start=start,
        details=details,
        time_zone=zone,
        request_key=f"key-{n}",
        proven_patient=treatment_patient(details, slug) if appointment_type.needs_approval else None,
    )


def rows(appointment) -> dict[str, tuple[datetime, str]]:
    return {r.kind: (r.due_at, r.status) for r in Reminder.objects.filter(appointment=appointment)}


@pytest.fixture
def booked_at():
    with time_machine.travel(BOOKED_AT, tick=False):
        yield BOOKED_AT


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("booked_at")
class TestRowsFollowTheVisit:
    def test_a_treatment_gets_the_four_shipped_reminders(self, celery_eager):
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        assert rows(visit) == {
            "confirmation": (BOOKED_AT, "sent"),
            "preparation": (datetime(2026, 12, 8, 14, 30, tzinfo=CLINIC), "pending"),
            "day_before": (datetime(2026, 12, 9, 14, 30, tzinfo=CLINIC), "pending"),
            "follow_up": (datetime(2026, 12, 11, 10, 0, tzinfo=CLINIC), "pending"),
        }
        assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Your appointment is confirmed"

    def test_a_consultation_gets_a_confirmation_and_a_day_before_reminder(self, celery_eager):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        assert set(rows(visit)) == {"confirmation", "day_before"}

    def test_a_move_recomputes_every_reminder_and_confirms_the_new_time(self, celery_eager):
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        services.appointment_reschedule(
            appointment=visit, clinician_id=visit.clinician_id, start=datetime(2026, 12, 12, 9, 0, tzinfo=CLINIC)
        )
        assert rows(visit) == {
            "confirmation": (BOOKED_AT, "sent"),
            "preparation": (datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC), "pending"),
            "day_before": (datetime(2026, 12, 11, 9, 0, tzinfo=CLINIC), "pending"),
            "follow_up": (datetime(2026, 12, 13, 10, 0, tzinfo=CLINIC), "pending"),
        }
        assert len(mail.outbox) == 2 and "Saturday, December 12, 2026" in mail.outbox[1].body

    def test_a_cancelled_visit_gets_a_cancellation_notice_and_no_other_reminder(self, celery_eager):
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        services.appointment_cancel(appointment=visit)
        assert {kind: status for kind, (_due, status) in rows(visit).items()} == {
            "confirmation": "sent",
            "cancellation": "sent",
            "preparation": "cancelled",
            "day_before": "cancelled",
            "follow_up": "cancelled",
        }
        with time_machine.travel(datetime(2026, 12, 12, tzinfo=CLINIC), tick=False):
            assert reminder_services.reminders_dispatch() == 0
        assert [m.subject for m in mail.outbox] == ["Your appointment is confirmed", "Your appointment is cancelled"]
        assert "Thursday, December 10, 2026 at 2:30 PM" in mail.outbox[1].body

    def test_a_visit_staff_reinstate_gets_its_reminders_back(self, celery_eager):
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        services.appointment_cancel(appointment=visit)
        visit = Appointment.objects.get(pk=visit.pk)
        visit.status = Appointment.Status.CONFIRMED
        services.appointment_staff_save(appointment=visit)
        assert {kind: status for kind, (_due, status) in rows(visit).items()} == {
            "confirmation": "sent",  # again: "it is back on"
            "cancellation": "cancelled",  # it no longer holds
            "preparation": "pending",
            "day_before": "pending",
            "follow_up": "pending",
        }
        confirmed, cancelled = "Your appointment is confirmed", "Your appointment is cancelled"
        back_on = "Your appointment is back on"
        assert [m.subject for m in mail.outbox] == [confirmed, cancelled, back_on]
        assert "please disregard our message that it was cancelled" in mail.outbox[2].body
        # Cancelled once more: a second notice.
        visit.status = Appointment.Status.CANCELLED
        services.appointment_staff_save(appointment=visit, changed=frozenset({"status"}))
        assert [m.subject for m in mail.outbox] == [confirmed, cancelled, back_on, cancelled]

    def test_an_edited_rule_applies_to_reminders_not_yet_sent(self, celery_eager):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        ReminderRule.objects.filter(appointment_type__slug="consultation", kind="day_before").update(
            offset_minutes=3 * 60
        )
        assert reminder_services.reminder_rules_apply(appointment_type=visit.appointment_type) == 1
        assert rows(visit)["day_before"] == (datetime(2026, 12, 10, 6, 0, tzinfo=CLINIC), "pending")
        ReminderRule.objects.filter(appointment_type__slug="consultation", kind="day_before").delete()
        reminder_services.reminder_rules_apply(appointment_type=visit.appointment_type)
        assert rows(visit)["day_before"][1] == "cancelled"

    def test_a_staff_move_in_the_admin_moves_the_held_time_and_the_reminders(self, admin_client, celery_eager):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        page = admin_client.get(f"/admin/booking/appointment/{visit.pk}/change/")
        assert page.status_code == 200
        form = page.context["adminform"].form
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data.update(
            {
                "start_0": "2026-12-11",
                "start_1": "11:00:00",
                "reminders-TOTAL_FORMS": "2",
                "reminders-INITIAL_FORMS": "2",
                "reminders-MIN_NUM_FORMS": "0",
                "reminders-MAX_NUM_FORMS": "1000",
            }
        )
        for index, reminder in enumerate(visit.reminders.order_by("pk")):
            data[f"reminders-{index}-id"] = reminder.pk
            data[f"reminders-{index}-appointment"] = visit.pk
        response = admin_client.post(f"/admin/booking/appointment/{visit.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        visit.refresh_from_db()
        assert visit.end == datetime(2026, 12, 11, 11, 45, tzinfo=CLINIC)
        assert visit.blocked_end == datetime(2026, 12, 11, 12, 0, tzinfo=CLINIC)
        assert rows(visit)["day_before"] == (datetime(2026, 12, 10, 11, 0, tzinfo=CLINIC), "pending")


# --- Sending: exactly once, on time, never stale ---------------------------------------------------


def send_due(now: datetime) -> list[str]:
    """One dispatch pass at `now`, tasks run in-process; the subjects of what was sent."""
    before = len(mail.outbox)
    with time_machine.travel(now, tick=False):
        reminder_services.reminders_dispatch()
    return [message.subject for message in mail.outbox[before:]]


def clinic(*args) -> datetime:
    return datetime(*args, tzinfo=CLINIC)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_eager")
@pytest.mark.parametrize(
    ("start", "moments", "hours_between"),
    [
        pytest.param(  # clocks back on Sunday 1 November: Saturday 9 AM EDT to Sunday 9 AM EST is 25 hours
            clinic(2026, 11, 2, 9),
            {
                "preparation": clinic(2026, 10, 31, 9),
                "day_before": clinic(2026, 11, 1, 9),
                "follow_up": clinic(2026, 11, 3, 10),
            },
            25,
            id="fall-back",
        ),
        pytest.param(  # clocks forward on Sunday 8 March: Saturday 9 AM EST to Sunday 9 AM EDT is 23 hours
            clinic(2026, 3, 9, 9),
            {
                "preparation": clinic(2026, 3, 7, 9),
                "day_before": clinic(2026, 3, 8, 9),
                "follow_up": clinic(2026, 3, 10, 10),
            },
            23,
            id="spring-forward",
        ),
    ],
)
def test_each_kind_goes_out_at_its_moment_across_a_clock_change(start, moments, hours_between):
    """An IV infusion on the Monday after a clock change, at 9 AM: each reminder at its clock time."""
    with time_machine.travel(start - timedelta(days=14), tick=False):
        visit = book("iv-infusion", start)
    mail.outbox.clear()
    # Same clock time a day apart (Python subtracts same-zone times by the clock; UTC tells real hours).
    between = moments["day_before"].astimezone(UTC) - moments["preparation"].astimezone(UTC)
    assert between == timedelta(hours=hours_between)
    sent = {}
    for kind, moment in moments.items():
        assert send_due(moment - timedelta(seconds=1)) == [], f"{kind} went out early"
        subjects = send_due(moment)
        assert len(subjects) == 1, f"{kind}: {subjects}"
        sent[kind] = subjects[0]
        assert send_due(moment + timedelta(minutes=5)) == [], f"{kind} went out twice"
    assert len(set(sent.values())) == 3  # three different messages
    assert {r.kind: r.status for r in visit.reminders.all()} == dict.fromkeys(
        ["confirmation", "preparation", "day_before", "follow_up"], "sent"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_eager")
def test_a_reminder_for_a_visit_that_has_started_is_dropped_not_sent():
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    mail.outbox.clear()
    # The workers were down all day: the day-before reminder is found after the visit began.
    assert send_due(datetime(2026, 12, 10, 9, 1, tzinfo=CLINIC)) == []
    reminder = visit.reminders.get(kind="day_before")
    assert reminder.status == "cancelled" and reminder.last_error == "No longer needed when due."


@pytest.mark.django_db(transaction=True)
def test_a_claimed_reminder_is_sent_by_one_task_only(celery_eager):
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    reminder = visit.reminders.get(kind="day_before")
    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 12, 9, 9, 0, tzinfo=CLINIC), tick=False):
        assert reminder_services.reminder_send(reminder_id=reminder.pk) == "sent"
        assert reminder_services.reminder_send(reminder_id=reminder.pk) == "not mine"
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_reminder_is_never_sent_before_it_is_due(celery_eager):
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        assert reminder_services.reminder_send(reminder_id=visit.reminders.get(kind="day_before").pk) == "not mine"


@pytest.mark.django_db(transaction=True)
def test_a_claim_left_by_a_dead_worker_is_taken_back_after_the_time_limit(settings, celery_eager, monkeypatch):
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    reminder = visit.reminders.get(kind="day_before")
    claimed_at = datetime(2026, 12, 9, 9, 0, tzinfo=CLINIC)

    def killed(message):  # the worker dies mid-send: nothing after this line runs
        raise WorkerKilled

    monkeypatch.setattr(reminder_services, "_deliver", killed)
    with time_machine.travel(claimed_at, tick=False), pytest.raises(WorkerKilled):
        reminder_services.reminder_send(reminder_id=reminder.pk)
    monkeypatch.undo()
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sending", 1)
    mail.outbox.clear()
    lease = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + settings.REMINDER_CLAIM_MARGIN
    assert send_due(claimed_at + lease - timedelta(seconds=1)) == []  # the worker might still be alive
    assert len(send_due(claimed_at + lease + timedelta(seconds=1))) == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 2)


class WorkerKilled(BaseException):
    """Like the SIGKILL of a worker: no `except Exception` in the send path catches it."""


@pytest.mark.django_db(transaction=True)
def test_a_reminder_whose_worker_dies_every_time_fails_instead_of_looping(celery_eager):
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    reminder = visit.reminders.get(kind="day_before")
    moment = datetime(2026, 12, 9, 9, 0, tzinfo=CLINIC)
    Reminder.objects.filter(pk=reminder.pk).update(
        status="sending",
        claim="dead",
        attempts=reminder_services.MAX_ATTEMPTS,
        lease_until=moment - timedelta(seconds=1),
    )
    mail.outbox.clear()
    assert send_due(moment) == []
    reminder.refresh_from_db()
    assert reminder.status == "failed"
    assert reminder.last_error == "The worker sending it stopped during each of its attempts."


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_move_during_a_send_waits_for_it_then_the_new_time_gets_its_reminder(celery_eager, monkeypatch):
    """The worker holds the visit while it sends; a move waits for it, then reopens the reminder."""
    import threading
    import time as wall_clock

    from django.db import connection

    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    reminder = visit.reminders.get(kind="day_before")
    sending, delivered, events = threading.Event(), [], []
    real_deliver = reminder_services._deliver

    def slow_deliver(message):
        sending.set()
        wall_clock.sleep(1)
        events.append("delivered")
        delivered.append(message.body)
        real_deliver(message)

    monkeypatch.setattr(reminder_services, "_deliver", slow_deliver)
    moment = datetime(2026, 12, 9, 9, 0, tzinfo=CLINIC)

    def worker():
        try:
            with time_machine.travel(moment, tick=False):
                reminder_services.reminder_send(reminder_id=reminder.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert sending.wait(10)
    with time_machine.travel(moment, tick=False):  # staff move the visit to Friday meanwhile
        visit.start = datetime(2026, 12, 11, 9, 0, tzinfo=CLINIC)
        services.appointment_staff_save(appointment=visit, changed=frozenset({"start"}))
    events.append("moved")
    thread.join()
    # The move waited for the send to finish, then confirmed the new time (sent on commit).
    assert events == ["delivered", "delivered", "moved"]
    assert "Thursday, December 10" in delivered[0] and "Friday, December 11" in delivered[1]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.due_at) == ("pending", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))


@pytest.mark.django_db(transaction=True)
def test_failed_attempts_back_off_then_the_row_fails_with_its_error(settings, celery_eager):
    settings.EMAIL_BACKEND = "tests.reminders.test_services.RefusingBackend"
    reminder_services._close_mail_connection()
    with time_machine.travel(BOOKED_AT, tick=False):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    confirmation = visit.reminders.get(kind="confirmation")
    assert (confirmation.status, confirmation.attempts) == ("pending", 1)
    assert confirmation.due_at == BOOKED_AT + timedelta(minutes=1)
    # Staff see what failed, not the patient's address that the server's reply repeats.
    assert confirmation.last_error == "SMTPRecipientsRefused: 550"
    moment = BOOKED_AT
    for attempt in range(2, reminder_services.MAX_ATTEMPTS + 1):
        moment += timing.retry_delay(attempt - 1)
        send_due(moment - timedelta(seconds=1))
        assert Reminder.objects.get(pk=confirmation.pk).attempts == attempt - 1, "retried too early"
        send_due(moment)
        assert Reminder.objects.get(pk=confirmation.pk).attempts == attempt
    confirmation.refresh_from_db()
    assert confirmation.status == "failed" and "550" in confirmation.last_error
    assert send_due(moment + timedelta(hours=2)) == []


class RefusingBackend:
    """An SMTP server that refuses the recipient, as a real one does for a mistyped address."""

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        from smtplib import SMTPRecipientsRefused

        raise SMTPRecipientsRefused({messages[0].to[0]: (550, b"no such user")})


@pytest.mark.django_db(transaction=True)
def test_send_due_reminders_command_runs_one_pass(capsys, celery_eager):
    with time_machine.travel(BOOKED_AT, tick=False):
        book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 12, 9, 9, 0, tzinfo=CLINIC), tick=False):
        call_command("send_due_reminders")
    assert "1 reminder(s) queued." in capsys.readouterr().out
    assert [m.subject for m in mail.outbox] == ["Your appointment is tomorrow"]


# --- Ride home and staff tools ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("booked_at", "celery_eager")
class TestRideHomeAndStaff:
    def test_the_ride_link_needs_a_button_press_and_the_admin_shows_it(self, client, admin_client):
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        page = client.get(f"/appointments/{visit.token}/ride/")
        assert page.status_code == 200 and b"My ride home is arranged" in page.content
        assert b"at about 4:10 PM" in page.content  # 40 minutes of infusion, an hour of recovery
        visit.refresh_from_db()
        assert visit.ride_confirmed_at is None  # opening the link (as a mail scanner does) records nothing
        response = client.post(f"/appointments/{visit.token}/ride/")
        assert response["Location"] == f"/appointments/{visit.token}/?ride=1"
        assert b"your ride home is arranged" in client.get(response["Location"]).content
        visit.refresh_from_db()
        assert visit.ride_confirmed_at == BOOKED_AT
        listing = admin_client.get("/admin/booking/appointment/").content.decode()
        assert '<td class="field-ride_home">confirmed</td>' in listing

    def test_a_visit_without_a_ride_rule_records_nothing(self, client):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        assert client.post(f"/appointments/{visit.token}/ride/")["Location"] == f"/appointments/{visit.token}/"
        visit.refresh_from_db()
        assert visit.ride_confirmed_at is None

    def test_staff_see_each_reminder_and_resend_one(self, client):
        staff = StaffUserFactory(is_superuser=True)
        staff_sign_in(client, staff)
        visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
        page = client.get(f"/admin/booking/appointment/{visit.pk}/change/").content.decode()
        for label in ("Confirmation", "Preparation (fasting, medicines, ride home)", "Day before", "Sent", "Waiting"):
            assert label in page
        mail.outbox.clear()
        confirmation = visit.reminders.get(kind="confirmation")
        response = client.post(
            "/admin/reminders/reminder/", {"action": "resend", "_selected_action": [confirmation.pk]}, follow=True
        )
        assert "1 reminder(s) will be sent within a minute." in response.content.decode()
        assert [m.subject for m in mail.outbox] == ["Your appointment is confirmed"]

    def test_failed_reminders_are_listed_for_staff(self, admin_client):
        visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
        Reminder.objects.filter(appointment=visit, kind="day_before").update(
            status="failed", last_error="SMTPRecipientsRefused: 550"
        )
        page = admin_client.get("/admin/reminders/reminder/?status__exact=failed").content.decode()
        assert "SMTPRecipientsRefused: 550" in page and "Day before" in page
