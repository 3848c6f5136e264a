"""Reminder e-mails as a patient reads them: the right times in their own clock, the right links, and
subjects that tell nobody glancing at a lock screen what the visit is for."""

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.conf import settings
from django.utils import timezone, translation
from icalendar import Calendar

from booking.emails import approval_email
from booking.models import Appointment, AppointmentType, Patient
from reminders.emails import confirmation_email, reminder_email
from reminders.models import Reminder, ReminderKind
from tests.factories import ClinicianFactory, approved_plan

# 2:30 PM in New York on Tuesday, March 10, 2026 (EDT, UTC-4), worked out by hand.
IV_START = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)
# 9:00 AM in Chicago on Thursday, December 10, 2026 (CST, UTC-6).
NASAL_START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
PRIVATE_WORDS = ["ketamine", "esketamine", "infusion", "spray", "depression", "ptsd", "anxiety", "treatment"]
CRISIS = "call or text 988"


def book(slug: str, start: datetime, *, time_zone="America/New_York", ride_confirmed_at=None, email="alex@example.org"):
    appointment_type = AppointmentType.objects.get(slug=slug)
    clinician = ClinicianFactory(name="Dr. Maya Chen", offers=[slug])
    patient = Patient.objects.create(full_name="Alex Rivera", email=email, phone="5550100123")
    end = start + appointment_type.duration
    return Appointment.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=appointment_type,
        start=start,
        end=end,
        blocked_start=start - timedelta(minutes=appointment_type.buffer_before_minutes),
        blocked_end=end + timedelta(minutes=appointment_type.recovery_minutes + appointment_type.buffer_after_minutes),
        time_zone=time_zone,
        ride_confirmed_at=ride_confirmed_at,
    )


def email_for(appointment: Appointment, kind: str):
    reminder = Reminder.objects.create(
        appointment=appointment, kind=kind, due_at=appointment.start, for_start=appointment.start
    )
    message = reminder_email(reminder)
    [(html, mime)] = message.alternatives
    assert mime == "text/html"
    assert message.to == [appointment.patient.email]
    return message, message.body, html


def link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ReminderKind.values)
@pytest.mark.parametrize("slug", ["consultation", "iv-infusion", "esketamine-nasal"])
def test_subjects_name_no_treatment_no_diagnosis_no_clinic(slug, kind):
    message, text, html = email_for(book(slug, IV_START), kind)
    for word in PRIVATE_WORDS:
        assert word not in message.subject.lower()
    assert settings.CLINIC_NAME.lower() not in message.subject.lower()
    # ... and each one carries the crisis line, in both versions.
    assert CRISIS in text
    assert CRISIS in html
    assert '<html lang="en">' in html


@pytest.mark.django_db
class TestPreparation:
    def test_fasting_times_in_the_patients_clock_medicines_and_the_ride_link(self):
        appointment = book("iv-infusion", IV_START)
        message, text, html = email_for(appointment, ReminderKind.PREPARATION)

        assert message.subject == "Getting ready for your appointment on Tuesday, March 10"
        for body in (text, html):
            assert "Tuesday, March 10, 2026" in body and "2:30 PM" in body and "(Eastern Time — New York)" in body
            # 6 hours and 2 hours before 2:30 PM.
            assert "No solid food after 8:30 AM on Tuesday, March 10." in body
            assert "are fine until 12:30 PM; after that, nothing to drink." in body
            assert "lorazepam or alprazolam" in body and "lamotrigine" in body
            assert "A sober adult must drive you home" in body
            assert "Do not drink alcohol for 24 hours" in body
            assert settings.CLINIC_PHONE in body
        ride_url = link(f"/appointments/{appointment.token}/ride/")
        assert ride_url in text
        assert f'<a href="{ride_url}">My ride home is arranged</a>' in html
        assert link(f"/appointments/{appointment.token}/") in text
        assert f'<a href="{link(f"/appointments/{appointment.token}/")}">' in html

    def test_times_follow_the_zone_the_patient_booked_in(self):
        appointment = book("esketamine-nasal", NASAL_START, time_zone="America/Chicago")
        message, text, html = email_for(appointment, ReminderKind.PREPARATION)

        assert message.subject == "Getting ready for your appointment on Thursday, December 10"
        for body in (text, html):
            assert "9:00 AM" in body and "(Central Time — Chicago)" in body
            # 2 hours and 30 minutes before 9:00 AM Chicago time.
            assert "No solid food after 7:00 AM on Thursday, December 10." in body
            assert "are fine until 8:30 AM; after that" in body

    def test_a_ride_already_arranged_is_thanked_not_asked_for(self):
        appointment = book("iv-infusion", IV_START, ride_confirmed_at=IV_START - timedelta(days=3))
        _message, text, html = email_for(appointment, ReminderKind.PREPARATION)

        for body in (text, html):
            assert "/ride/" not in body
            assert "Thank you, you told us your ride home is arranged." in body
            assert "A sober adult must drive you home" in body  # the rules still stand

    def test_a_type_without_fasting_or_ride_rules_says_nothing_of_them(self):
        AppointmentType.objects.filter(slug="iv-infusion").update(
            fasting_food_minutes=None, fasting_liquids_minutes=None, ride_home_required=False
        )
        _message, text, html = email_for(book("iv-infusion", IV_START), ReminderKind.PREPARATION)

        for body in (text, html):
            assert "solid food" not in body and "nothing to drink" not in body.lower()
            assert "/ride/" not in body and "drive you home" not in body
            assert "lamotrigine" in body


@pytest.mark.django_db
class TestDayBefore:
    def test_in_person_where_what_to_bring_fasting_and_the_ride_link(self, time_machine):
        time_machine.move_to(IV_START - timedelta(hours=24), tick=False)
        appointment = book("iv-infusion", IV_START)
        message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)

        assert message.subject == "Your appointment is tomorrow"
        ride_url = link(f"/appointments/{appointment.token}/ride/")
        for body in (text, html):
            assert "Tuesday, March 10, 2026" in body and "2:30 PM" in body and "(Eastern Time — New York)" in body
            assert "Dr. Maya Chen" in body
            assert settings.CLINIC_ADDRESS in body
            assert "photo ID" in body and "the name and phone number of the adult driving you home" in body
            assert "No solid food after 8:30 AM on Tuesday, March 10." in body
            assert "Online changes close 24 hours before your visit" in body
            assert "video" not in body.lower()
        assert ride_url in text
        assert f'<a href="{ride_url}">My ride home is arranged</a>' in html

    def test_no_ride_link_once_the_ride_is_arranged(self):
        appointment = book("iv-infusion", IV_START, ride_confirmed_at=IV_START - timedelta(days=1))
        _message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)
        assert "/ride/" not in text and "/ride/" not in html
        assert "the name and phone number of the adult driving you home" in text

    def test_video_visit_links_its_own_room_and_needs_no_address(self, time_machine, settings):
        settings.VIDEO_ROOM_BASE_URL = "https://video.example.org/room/"
        time_machine.move_to(NASAL_START - timedelta(hours=20), tick=False)  # 1:00 PM the day before, Chicago
        appointment = book("consultation", NASAL_START, time_zone="America/Chicago")
        other = book("consultation", NASAL_START + timedelta(hours=1), email="sam@example.org")
        message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)
        _message, other_text, _html = email_for(other, ReminderKind.DAY_BEFORE)

        room = appointment.video_url
        assert room == f"https://video.example.org/room/{appointment.video_room}" and len(appointment.video_room) >= 32
        # Each visit has a room of its own: nobody walks into another patient's call.
        assert other.video_url != room and other.video_url in other_text and room not in other_text
        assert message.subject == "Your appointment is tomorrow"
        assert room in text
        assert f'<a href="{room}">Join your video call</a>' in html
        for body in (text, html):
            assert "Thursday, December 10, 2026" in body and "9:00 AM" in body and "(Central Time — Chicago)" in body
            assert settings.CLINIC_ADDRESS not in body
            assert "what to have ready" in body.lower() and "what to bring" not in body.lower()
            assert "a charged phone, tablet or computer with a camera" in body
            assert "photo ID" not in body
            assert "solid food" not in body and "/ride/" not in body

    def test_video_visit_without_a_video_service_says_to_call_if_no_link_arrives(self, settings):
        settings.VIDEO_ROOM_BASE_URL = ""
        appointment = book("consultation", NASAL_START, time_zone="America/Chicago")
        _message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)
        for body in (text, html):
            assert f"if it has not arrived an hour before, call us on {settings.CLINIC_PHONE}" in body
            assert "https://video" not in body

    def test_subject_says_today_when_sent_on_the_day(self, time_machine):
        time_machine.move_to(IV_START - timedelta(hours=3), tick=False)  # 11:30 AM the same day
        message, _text, _html = email_for(book("iv-infusion", IV_START), ReminderKind.DAY_BEFORE)
        assert message.subject == "Your appointment is today"


@pytest.mark.django_db
def test_follow_up_asks_after_the_patient_with_crisis_help_first_and_a_booking_link():
    appointment = book("iv-infusion", IV_START)
    message, text, html = email_for(appointment, ReminderKind.FOLLOW_UP)

    assert message.subject == "How are you doing today?"
    booking_url = link(f"/book/?patient={appointment.patient.booking_token}")
    assert booking_url in text
    assert f'<a href="{booking_url}">Book your next visit</a>' in html
    for body in (text, html):
        # The crisis line comes before anything else the message says.
        assert body.index(CRISIS) < body.index("How are you feeling today?")
        assert "If you are in immediate danger, call 911." in body
        assert "reply to this e-mail" in body and settings.CLINIC_PHONE in body
        assert "usually gone within a day" in body.lower()
        assert "call 911 at once" in body.lower()
        assert "Tuesday, March 10" in body


@pytest.mark.django_db
def test_the_confirmation_reminder_is_the_confirmation_email():
    appointment = book("consultation", IV_START)
    message, text, html = email_for(appointment, ReminderKind.CONFIRMATION)
    expected = confirmation_email(appointment)

    assert (message.subject, text, html) == (expected.subject, expected.body, expected.alternatives[0][0])
    assert link(f"/appointments/{appointment.token}/") in text
    [(name, _ics, mime)] = message.attachments
    assert (name, mime) == ("appointment.ics", "text/calendar; method=PUBLISH")


@pytest.mark.django_db
def test_the_approval_email_links_to_booking_for_this_patient():
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    message = approval_email(approved_plan(patient, "iv-infusion"))
    assert link(f"/book/?patient={patient.booking_token}") in message.body


@pytest.mark.django_db
def test_the_email_as_written_out_reads_back_whole_for_a_name_beyond_ascii():
    appointment = book("esketamine-nasal", NASAL_START, time_zone="America/Chicago")
    appointment.patient.full_name = "Zoë Müller-O'Brien"
    appointment.patient.save()
    message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)
    message.to = [f"{appointment.patient.full_name} <zoe@example.org>"]
    message.subject = "Your appointment on Thursday, December 10 — " + "a long subject line " * 5

    raw = message.message().as_bytes(linesep="\r\n")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert parsed["To"].addresses[0].display_name == "Zoë Müller-O'Brien"
    assert parsed["To"].addresses[0].addr_spec == "zoe@example.org"
    # Django's header folding (Python's compat32) starts a long encoded subject on a folded line,
    # which a strict parser reads as one leading space: mail clients drop it.
    assert str(parsed["Subject"]).strip() == message.subject.strip()
    [plain, rich] = (part.get_content().replace("\r\n", "\n") for part in parsed.iter_parts())
    assert plain == text and "Hello Zoë Müller-O'Brien," in plain
    assert rich == html and "Hello Zoë Müller-O&#x27;Brien," in rich


@pytest.mark.django_db
def test_the_confirmation_as_the_mail_server_receives_it():
    """Text and HTML as alternatives of one another, the calendar file beside them, every part
    readable back from the bytes sent."""
    appointment = book("iv-infusion", IV_START)
    message = confirmation_email(appointment)

    parsed = email.message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=email.policy.default)

    assert parsed["Subject"] == "Your appointment is confirmed"
    assert parsed["To"] == "alex@example.org" and parsed["From"] == settings.DEFAULT_FROM_EMAIL
    assert parsed.get_content_type() == "multipart/mixed"
    [alternatives, calendar] = parsed.iter_parts()
    assert alternatives.get_content_type() == "multipart/alternative"
    [plain, rich] = alternatives.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content().replace("\r\n", "\n") == message.body
    assert rich.get_content().replace("\r\n", "\n") == message.alternatives[0][0]
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "PUBLISH"
    assert calendar.get_filename() == "appointment.ics"
    [event] = Calendar.from_ical(calendar.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART") == IV_START


@pytest.mark.django_db
def test_every_link_is_absolute_and_opens_the_patients_own_page(client, settings):
    """The links of the text and of the HTML are the same, start at SITE_URL, and lead somewhere."""
    settings.SITE_URL = "https://clinic.example.org"
    appointment = book("iv-infusion", IV_START)
    links = set()
    for kind in ReminderKind.values:
        _message, text, html = email_for(appointment, kind)
        in_text = set(re.findall(r"https?://\S+", text))
        assert in_text == {unescape(href) for href in re.findall(r'href="([^"]+)"', html)}
        links |= in_text
    token = appointment.token
    assert {
        f"https://clinic.example.org/appointments/{token}/",
        f"https://clinic.example.org/appointments/{token}/ride/",
        f"https://clinic.example.org/book/?patient={appointment.patient.booking_token}",
    } <= links
    for url in links:
        assert url.startswith("https://clinic.example.org/")
        response = client.get(url.removeprefix("https://clinic.example.org"), follow=True)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_what_a_patient_typed_is_escaped_in_html_and_left_as_typed_in_text():
    patient = Patient.objects.create(full_name="Ann <b>O'Hara & Co</b>", email="ann@example.org", phone="5550100123")
    message = approval_email(approved_plan(patient, "iv-infusion"))
    [(html, _mime)] = message.alternatives

    assert "Hello Ann &lt;b&gt;O&#x27;Hara &amp; Co&lt;/b&gt;," in html and "<b>O" not in html
    assert "Hello Ann <b>O'Hara & Co</b>," in message.body
    # The template's own sentence is written as it stands: escaped once in HTML, not at all in text.
    assert "(Suicide &amp; Crisis Lifeline)" in html and "&amp;amp;" not in html
    assert "(Suicide & Crisis Lifeline)" in message.body and "&amp;" not in message.body


@pytest.mark.django_db
def test_every_email_uses_only_what_it_is_given(settings, time_machine):
    """A misspelt variable would leave a blank in a patient's e-mail: here it shows."""
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine["OPTIONS"], "string_if_invalid": "MISSING(%s)"}}
        for engine in settings.TEMPLATES
    ]
    settings.VIDEO_ROOM_BASE_URL = "https://video.example.org/room/"
    time_machine.move_to(IV_START - timedelta(days=3), tick=False)
    messages = [
        approval_email(
            approved_plan(
                Patient.objects.create(full_name="Sam Lee", email="sam@example.org", phone="5550100124"), "iv-infusion"
            )
        )
    ]
    for slug in ("consultation", "iv-infusion"):
        appointment = book(slug, IV_START, email=f"{slug}@example.org")
        messages += [email_for(appointment, kind)[0] for kind in ReminderKind.values]
        Appointment.objects.filter(pk=appointment.pk).update(sequence=1)
        appointment.refresh_from_db()
        messages.append(confirmation_email(appointment))  # "has moved"
    for message in messages:
        for body in (message.body, message.alternatives[0][0]):
            assert "MISSING" not in body


@pytest.mark.django_db
def test_times_are_the_patients_whatever_zone_the_worker_runs_in():
    appointment = book("iv-infusion", IV_START)
    with timezone.override("Asia/Kolkata"):  # 4:00 AM on Wednesday there
        message, text, html = email_for(appointment, ReminderKind.PREPARATION)
    assert message.subject == "Getting ready for your appointment on Tuesday, March 10"
    for body in (text, html):
        assert "Tuesday, March 10, 2026" in body and "2:30 PM" in body and "(Eastern Time — New York)" in body
        assert "Wednesday" not in body and "4:00 AM" not in body


@pytest.mark.django_db
def test_dates_are_written_in_the_language_of_the_moment():
    appointment = book("iv-infusion", IV_START)
    with translation.override("es"):
        _message, text, html = email_for(appointment, ReminderKind.DAY_BEFORE)
    for body in (text, html):
        assert "martes, marzo 10, 2026" in body
