"""Calendars stay true: one event per visit that a move updates and a cancel removes, covering the
time the visit really takes; and the confirmation is always the first e-mail a visit sends.

Database tests here are transactional: reminders are queued when the booking commits."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from booking import services
from booking.calendar import appointment_ics
from booking.models import Appointment, AppointmentType
from reminders import services as reminder_services
from reminders.models import Reminder
from tests.reminders.test_services import book

CLINIC = ZoneInfo("America/New_York")
BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=CLINIC)  # a Tuesday
PRIVATE_WORDS = ["ketamine", "esketamine", "infusion", "spray", "depression", "treatment"]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("booked_at")]


@pytest.fixture
def booked_at():
    with time_machine.travel(BOOKED_AT, tick=False):
        yield BOOKED_AT


def parse(ics) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def sequence(event) -> int:
    return int(event.get("sequence"))


def attachment(message) -> tuple[str, str, object, object]:
    [(name, content, mime)] = message.attachments
    return (name, mime, *parse(content))


@pytest.fixture
def queue(monkeypatch):
    """The ids handed to the workers, recorded instead of sent to Redis."""
    queued: list[int] = []
    monkeypatch.setattr(reminder_services, "_enqueue", queued.extend)
    return queued


def run(queue: list[int], *, newest_first: bool = False) -> list[str]:
    """Be the workers until nothing is left queued; what each send did."""
    done = []
    while queue:
        batch = list(reversed(queue)) if newest_first else list(queue)
        queue.clear()
        done += [reminder_services.reminder_send(reminder_id=reminder_id) for reminder_id in batch]
    return done


def subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


# --- The .ics ------------------------------------------------------------------------------------


def test_one_event_for_the_visits_life_its_sequence_rising_with_each_change(queue):
    visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    calendar, booked = parse(appointment_ics(visit))
    assert (str(calendar["method"]), str(booked["status"]), sequence(booked)) == ("PUBLISH", "CONFIRMED", 0)

    moved = services.appointment_reschedule(
        appointment=visit, clinician_id=visit.clinician_id, start=datetime(2026, 12, 11, 11, 0, tzinfo=CLINIC)
    )
    calendar, after_move = parse(appointment_ics(moved))
    assert after_move["uid"] == booked["uid"]
    assert sequence(after_move) == 1
    assert (str(calendar["method"]), str(after_move["status"])) == ("PUBLISH", "CONFIRMED")
    assert after_move.decoded("dtstart") == datetime(2026, 12, 11, 11, 0, tzinfo=CLINIC)

    cancelled = services.appointment_cancel(appointment=moved)
    calendar, after_cancel = parse(appointment_ics(cancelled))
    assert after_cancel["uid"] == booked["uid"]
    assert sequence(after_cancel) == 2
    assert (str(calendar["method"]), str(after_cancel["status"])) == ("CANCEL", "CANCELLED")
    # RFC 5546 wants the organizer on a CANCEL: the clinic's address, and no name with it.
    assert str(after_cancel["organizer"]) == "mailto:clinic@example.org"
    assert not after_cancel["organizer"].params
    assert str(after_cancel["summary"]) == "Appointment"


def test_the_organizer_is_an_address_without_the_clinics_name(settings, queue):
    settings.DEFAULT_FROM_EMAIL = f"{settings.CLINIC_NAME} <appointments@clinic.example.org>"
    _calendar, event = parse(appointment_ics(book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))))
    assert str(event["organizer"]) == "mailto:appointments@clinic.example.org"
    assert not event["organizer"].params  # no CN
    assert str(event["summary"]) == "Appointment"


@pytest.mark.parametrize(
    ("slug", "minutes", "recovery"),
    [
        ("iv-infusion", 40 + 60, "about 60 minutes of recovery"),  # the infusion, then an hour of recovery
        ("esketamine-nasal", 120, None),  # its two hours are the monitoring
        ("consultation", 45, None),
    ],
)
def test_the_event_keeps_free_the_time_the_visit_really_takes(slug, minutes, recovery, queue):
    start = datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC)
    visit = book(slug, start)
    _calendar, event = parse(appointment_ics(visit))
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + timedelta(minutes=minutes)
    description = str(event["description"])
    if recovery:
        assert recovery in description
    else:
        assert event.decoded("dtend") == visit.end and "recovery" not in description


def test_the_download_of_a_cancelled_visit_removes_it_and_is_never_cached(client, queue):
    visit = services.appointment_cancel(appointment=book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC)))
    response = client.get(f"/appointments/{visit.token}/calendar.ics")
    calendar, event = parse(response.content)
    assert (str(calendar["method"]), str(event["status"]), sequence(event)) == ("CANCEL", "CANCELLED", 1)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


# --- The e-mails that carry it ---------------------------------------------------------------------


def test_a_move_says_it_moved_and_updates_the_same_event(celery_eager):
    visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    services.appointment_reschedule(
        appointment=visit, clinician_id=visit.clinician_id, start=datetime(2026, 12, 12, 9, 0, tzinfo=CLINIC)
    )
    assert subjects() == ["Your appointment is confirmed", "Your appointment has moved"]
    first, moved = mail.outbox
    assert "Your appointment is confirmed:" in first.body
    [(html, _mime)] = moved.alternatives
    for body in (moved.body, html):
        assert "Your appointment has moved. The new time is:" in body
        assert "Saturday, December 12, 2026" in body and "9:00 AM" in body
        assert "Thursday, December 10" not in body
        assert "updates the event already in your calendar" in body
    for word in PRIVATE_WORDS:
        assert word not in moved.subject.lower()
    _name, _mime, _calendar, before = attachment(first)
    name, mime, calendar, after = attachment(moved)
    assert (name, mime, str(calendar["method"])) == ("appointment.ics", "text/calendar; method=PUBLISH", "PUBLISH")
    assert after["uid"] == before["uid"]
    assert sequence(after) > sequence(before)
    assert after.decoded("dtstart") == datetime(2026, 12, 12, 9, 0, tzinfo=CLINIC)


def test_the_cancellation_notice_carries_the_cancel_of_the_event(celery_eager):
    visit = book("iv-infusion", datetime(2026, 12, 10, 14, 30, tzinfo=CLINIC))
    services.appointment_cancel(appointment=visit)
    assert subjects() == ["Your appointment is confirmed", "Your appointment is cancelled"]
    _name, _mime, _calendar, booked = attachment(mail.outbox[0])
    name, mime, calendar, cancelled = attachment(mail.outbox[1])
    assert (name, mime) == ("cancel-appointment.ics", "text/calendar; method=CANCEL")
    assert (str(calendar["method"]), str(cancelled["status"])) == ("CANCEL", "CANCELLED")
    assert cancelled["uid"] == booked["uid"] and sequence(cancelled) > sequence(booked)
    assert "removes the appointment from your calendar" in mail.outbox[1].body


def test_the_confirmation_says_what_changed_since_the_patient_last_heard(celery_eager, monkeypatch):
    def staff_set(status: str) -> None:
        visit = Appointment.objects.get(pk=visit_id)
        visit.status = status
        services.appointment_staff_save(appointment=visit, changed=frozenset({"status"}))

    # Booked, cancelled and put back while the workers were busy: nothing went out meanwhile, and
    # the patient, who never heard of the cancel, is simply told it is confirmed.
    with monkeypatch.context() as busy:
        busy.setattr(reminder_services, "_enqueue", lambda ids: None)
        visit_id = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC)).pk
        staff_set(Appointment.Status.CANCELLED)
        staff_set(Appointment.Status.CONFIRMED)
    confirmation = Reminder.objects.get(appointment_id=visit_id, kind="confirmation")
    assert reminder_services.reminder_send(reminder_id=confirmation.pk) == "sent"
    # Cancelled (and the patient told), then put back by staff: back on.
    staff_set(Appointment.Status.CANCELLED)
    staff_set(Appointment.Status.CONFIRMED)
    # Then moved by the patient: moved.
    services.appointment_reschedule(
        appointment=Appointment.objects.get(pk=visit_id),
        clinician_id=None,
        start=datetime(2026, 12, 11, 9, 0, tzinfo=CLINIC),
    )
    assert subjects() == [
        "Your appointment is confirmed",
        "Your appointment is cancelled",
        "Your appointment is back on",
        "Your appointment has moved",
    ]
    assert "please disregard our message that it was cancelled" in mail.outbox[2].body
    events = [attachment(message)[3] for message in mail.outbox]
    assert len({str(event["uid"]) for event in events}) == 1
    assert [sequence(event) for event in events] == [2, 3, 4, 5]


# --- The confirmation comes first -------------------------------------------------------------------


def late_infusion() -> Appointment:
    """An IV infusion booked 30 hours ahead: its 48-hour preparation reminder is due at once."""
    AppointmentType.objects.filter(slug="iv-infusion").update(min_notice_hours=24)
    return book("iv-infusion", BOOKED_AT + timedelta(hours=30))


def test_a_late_booking_queues_only_its_confirmation_and_the_preparation_follows_it(queue):
    visit = late_infusion()
    confirmation = visit.reminders.get(kind="confirmation")
    preparation = visit.reminders.get(kind="preparation")
    assert preparation.due_at == BOOKED_AT  # overdue: it is to go at once, but after the confirmation
    assert queue == [confirmation.pk]

    # A worker that gets to the preparation first (queued by a staff resend, a stale message)
    # sends nothing, and the attempt is not counted against it.
    assert reminder_services.reminder_send(reminder_id=preparation.pk) == "waits for the confirmation"
    preparation.refresh_from_db()
    assert (preparation.status, preparation.attempts, preparation.due_at) == ("pending", 0, BOOKED_AT)
    assert mail.outbox == []

    # Workers that take the newest message first: still the confirmation before anything else.
    queue.append(preparation.pk)
    assert run(queue, newest_first=True) == ["waits for the confirmation", "sent", "sent"]
    preparation_subject = "Getting ready for your appointment on Wednesday, December 2"
    assert subjects() == ["Your appointment is confirmed", preparation_subject]
    assert dict(visit.reminders.values_list("kind", "status"))["preparation"] == "sent"


def test_a_move_close_to_the_visit_sends_the_moved_notice_before_the_reminder_now_due(queue):
    visit = book("consultation", datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC))
    run(queue)
    mail.outbox.clear()
    # Moved to 7 AM tomorrow, 23 hours ahead: its day-before reminder is due at once too.
    services.appointment_reschedule(
        appointment=visit, clinician_id=visit.clinician_id, start=datetime(2026, 12, 2, 7, 0, tzinfo=CLINIC)
    )
    assert queue == [visit.reminders.get(kind="confirmation").pk]
    run(queue)
    assert subjects() == ["Your appointment has moved", "Your appointment is tomorrow"]


@pytest.mark.parametrize("confirmation_ends", ["sent", "failed", "cancelled"])
def test_the_dispatcher_holds_a_visits_reminders_while_its_confirmation_is_owed(queue, confirmation_ends):
    visit = late_infusion()
    queue.clear()  # the message sent at booking is lost: the dispatcher's pass must find the rows again
    assert reminder_services.reminders_dispatch() == 1
    assert queue == [visit.reminders.get(kind="confirmation").pk]
    assert visit.reminders.get(kind="preparation").status == "pending"
    assert reminder_services.reminders_dispatch() == 0  # the confirmation is queued: the preparation still waits

    # Sent, or failed for good, or no longer needed: it holds nothing back any longer.
    visit.reminders.filter(kind="confirmation").update(status=confirmation_ends, lease_until=None)
    queue.clear()
    assert reminder_services.reminders_dispatch() == 1
    assert queue == [visit.reminders.get(kind="preparation").pk]
