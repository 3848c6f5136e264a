"""The e-mail of each reminder kind: the visit's confirmation and what follows it."""

from datetime import datetime
from enum import StrEnum

from django.core.mail import EmailMultiAlternatives
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from booking.calendar import appointment_ics
from booking.emails import local_start, patient_email, site_url
from booking.models import Appointment
from booking.selectors import rebook_query
from reminders.models import Reminder, ReminderKind
from reminders.preparation import fasting_sentence, fasting_times
from treatment.measurements import check_in_done, is_treatment


class News(StrEnum):
    """What a visit's confirmation tells the patient (its subject and first sentence)."""

    CONFIRMED, MOVED, BACK_ON = "confirmed", "moved", "back_on"


def confirmation_news(appointment: Appointment) -> News:
    """Whether this visit's confirmation confirms it, says it moved, or says it is back on.

    A visit never moved nor cancelled (SEQUENCE 0) is confirmed. Otherwise its cancellation
    notice, if there is one, tells: a notice for this very time means the visit was cancelled
    and is on again at the time it had, "back on" if the patient was told of the cancel (the
    notice went out), a plain confirmation if it never did. Any other change that leads to a
    confirmation again is a new time: "moved"."""
    if appointment.sequence == 0:
        return News.CONFIRMED
    notice = (
        Reminder.objects.filter(appointment=appointment, kind=ReminderKind.CANCELLATION)
        .values_list("for_start", "sent_at")
        .first()
    )
    if notice is not None and notice[0] == appointment.start:
        return News.BACK_ON if notice[1] is not None else News.CONFIRMED
    return News.MOVED


def confirmation_email(appointment: Appointment) -> EmailMultiAlternatives:
    news = confirmation_news(appointment)
    context = {
        "appointment": appointment,
        "local_start": local_start(appointment),
        "manage_url": site_url("booking:manage", appointment.token),
        "moved": news == News.MOVED,
        "back_on": news == News.BACK_ON,
    }
    subjects = {
        News.CONFIRMED: _("Your appointment is confirmed"),
        News.MOVED: _("Your appointment has moved"),
        News.BACK_ON: _("Your appointment is back on"),
    }
    message = patient_email(
        subject=subjects[news], template="reminders/email/confirmation", context=context, to=appointment.patient
    )
    # The same event (UID) as before, at a higher SEQUENCE after a move: calendars update it.
    message.attach("appointment.ics", appointment_ics(appointment), "text/calendar; method=PUBLISH")
    return message


def reminder_email(reminder: Reminder) -> EmailMultiAlternatives:
    """The e-mail of one reminder row, by its kind."""
    appointment = reminder.appointment
    if reminder.kind == ReminderKind.CONFIRMATION:
        return confirmation_email(appointment)
    context = _visit_context(appointment)
    start = context["local_start"]
    if reminder.kind == ReminderKind.PREPARATION:
        subject = _("Getting ready for your appointment on %(day)s") % {"day": dateformat.format(start, "l, F j")}
    elif reminder.kind == ReminderKind.DAY_BEFORE:
        subject = _day_before_subject(start)
    elif reminder.kind == ReminderKind.FOLLOW_UP:
        subject = _("How are you doing today?")
    elif reminder.kind == ReminderKind.CANCELLATION:
        subject = _("Your appointment is cancelled")
        context["rebook_url"] = _rebook_url(appointment)
    else:
        raise ValueError(f"no e-mail for reminder kind {reminder.kind!r}")
    if reminder.kind == ReminderKind.DAY_BEFORE and is_treatment(appointment) and not check_in_done(appointment):
        # The questionnaires of measurement-based care, answered before the session (treatment/check_in.py).
        context["check_in_url"] = site_url("booking:check_in", appointment.token)
    template = f"reminders/email/reminder_{reminder.kind}"
    message = patient_email(subject=subject, template=template, context=context, to=appointment.patient)
    if reminder.kind == ReminderKind.CANCELLATION:  # takes the event out of the patient's calendar
        message.attach("cancel-appointment.ics", appointment_ics(appointment), "text/calendar; method=CANCEL")
    return message


def _visit_context(appointment: Appointment) -> dict:
    start = local_start(appointment)
    kind = appointment.appointment_type
    fasting = fasting_times(
        start=appointment.start,
        time_zone=appointment.time_zone,
        food_minutes=kind.fasting_food_minutes,
        liquids_minutes=kind.fasting_liquids_minutes,
    )
    return {
        "appointment": appointment,
        "local_start": start,
        "in_person": kind.mode == kind.Mode.IN_PERSON,
        "video_url": appointment.video_url,
        "fasting": fasting_sentence(fasting, start_local=start),
        "ride_required": kind.ride_home_required,
        "ride_confirmed": appointment.ride_confirmed_at is not None,
        "ride_url": site_url("booking:ride", appointment.token),
        "manage_url": site_url("booking:manage", appointment.token),
        "booking_url": site_url("booking:start", query={"patient": appointment.patient.booking_token}),
        "change_hours": kind.cancellation_cutoff_hours,
    }


def _rebook_url(appointment: Appointment) -> str:
    return site_url("booking:start", query=rebook_query(appointment))


def _day_before_subject(start: datetime) -> str:
    # Sent a day ahead, but a late booking or a delayed send can make it the same day.
    days_ahead = (start.date() - timezone.localtime(timezone.now(), start.tzinfo).date()).days
    if days_ahead == 1:
        return _("Your appointment is tomorrow")
    if days_ahead <= 0:
        return _("Your appointment is today")
    return _("Your appointment on %(day)s") % {"day": dateformat.format(start, "l, F j")}
