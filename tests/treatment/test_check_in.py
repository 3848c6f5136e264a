"""The patient's check-in before a treatment (/appointments/<token>/check-in/), over HTTP: the
screening's questionnaires in its words, one score per visit and questionnaire, the window, bad
input, the safety path with its one alert, the rate limit, and the links that lead to it."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from booking.models import Appointment, AppointmentType, Patient
from booking.services import visit_times
from reminders.emails import reminder_email
from reminders.models import Reminder, ReminderKind
from screening.instruments import GAD7, PHQ9
from tests.factories import ClinicianFactory
from treatment import measurements
from treatment.models import Measurement
from treatment.tasks import alert_staff_of_check_in_safety_answer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CLINIC = ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC)
START = datetime.datetime(2026, 12, 8, 10, 0, tzinfo=CLINIC)  # tomorrow, inside the 3-day window
ONCALL = "oncall@clinic.example.org"


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def oncall(settings):
    settings.SCREENING_ALERT_EMAILS = [ONCALL]


def treatment_visit(slug="esketamine-nasal", start=START, **fields) -> Appointment:
    kind = AppointmentType.objects.get(slug=slug)
    end, held_from, held_until = visit_times(kind, start)
    patient = fields.pop("patient", None) or Patient.objects.create(
        full_name="Alex Rivera", email=f"alex{Patient.objects.count()}@example.org", phone="5550100123"
    )
    return Appointment.objects.create(
        patient=patient,
        clinician=ClinicianFactory(offers=[slug]),
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=held_from,
        blocked_end=held_until,
        **fields,
    )


@pytest.fixture
def visit():
    return treatment_visit()


def url(appointment) -> str:
    return f"/appointments/{appointment.token}/check-in/"


def phq9(*answers: int, item9: int | None = None) -> dict:
    values = list(answers) or [2, 1, 2, 1, 1, 0, 1, 0, 0]
    if item9 is not None:
        values[8] = item9
    return {"questionnaire": "phq9", **{f"item_{n}": str(v) for n, v in enumerate(values, start=1)}}


def gad7(*answers: int) -> dict:
    values = list(answers) or [1, 1, 2, 0, 0, 1, 0]
    return {"questionnaire": "gad7", **{f"item_{n}": str(v) for n, v in enumerate(values, start=1)}}


def main(response) -> str:
    return response.content.decode().split('<main id="main"')[1]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- The questionnaires, as the screening asks them ------------------------------------------


def test_the_phq9_comes_first_in_the_screenings_words_with_its_credit(client, visit):
    response = client.get(url(visit))
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    page = main(response)
    assert "<h1" in page and "Mood (PHQ-9)" in page
    assert PHQ9.stem in page and PHQ9.credit in page
    for number, item in enumerate(PHQ9.items, start=1):
        assert f'<fieldset id="id_item_{number}"' in page  # a group per question, its legend the question
        assert f"{number}. {item}" in words(page)
    for option in PHQ9.options:
        assert option in page
    assert 'name="questionnaire" value="phq9"' in page and 'name="csrfmiddlewaretoken"' in page
    assert 'href="tel:988"' in page  # the screening's note on the PHQ-9 page


def test_both_questionnaires_are_kept_once_each_with_their_answers(client, visit):
    response = client.post(url(visit), phq9())
    assert response.status_code == 302 and response["Location"] == url(visit)
    page = main(client.get(url(visit)))
    assert "Anxiety (GAD-7)" in page and GAD7.stem in page and GAD7.credit in page
    assert "PHQ-9: received." in words(page)

    assert client.post(url(visit), gad7()).status_code == 302
    done = words(main(client.get(url(visit))))
    assert "Thank you — we have your answers" in done and "<form" not in main(client.get(url(visit)))

    kept = {m.instrument: m for m in Measurement.objects.all()}
    assert set(kept) == {"phq9", "gad7"}
    assert (kept["phq9"].score, kept["phq9"].answers) == (8, [2, 1, 2, 1, 1, 0, 1, 0, 0])
    assert (kept["gad7"].score, kept["gad7"].answers) == (5, [1, 1, 2, 0, 0, 1, 0])
    for measurement in kept.values():
        assert measurement.source == Measurement.Source.CHECK_IN
        assert measurement.appointment == visit and measurement.patient == visit.patient
        assert measurement.taken_at == NOW and measurement.staff_alerted_at is None
    assert mail.outbox == []  # item 9 was 0


def test_a_second_submission_is_received_not_counted_again(client, visit):
    client.post(url(visit), phq9())
    again = client.post(url(visit), phq9(3, 3, 3, 3, 3, 3, 3, 3, 0))
    assert again.status_code == 302 and again["Location"] == url(visit) + "?already=phq9"
    page = words(main(client.get(again["Location"])))
    assert "We had already received your PHQ-9 answers for this visit" in page
    assert Measurement.objects.get().score == 8  # the first answers stand, one point


def test_the_service_keeps_one_score_per_visit_and_questionnaire(visit):
    first, created = measurements.check_in_answer(appointment=visit, instrument="gad7", answers=[1] * 7)
    second, created_again = measurements.check_in_answer(appointment=visit, instrument="gad7", answers=[3] * 7)
    assert created and not created_again and second.pk == first.pk and second.score == 7
    assert Measurement.objects.count() == 1


# --- Bad input: kind messages, nothing lost, never a 500 ---------------------------------------


def test_unanswered_questions_are_listed_and_linked_and_the_answers_given_stay(client, visit):
    data = phq9()
    del data["item_3"], data["item_9"]
    response = client.post(url(visit), data)
    assert response.status_code == 200
    page = main(response)
    assert 'id="error-summary"' in page and "Please correct 2 answers below." in page
    assert '<a href="#id_item_3">' in page and "Please choose an answer for question 3." in page
    assert '<a href="#id_item_9">' in page
    assert re.search(r'name="item_1" value="2"[^>]*checked', page)  # what was answered is still chosen
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {**phq9(), "item_1": "1\x00"},
        {**phq9(), "item_2": "9" * 400},
        {**phq9(), "item_4": "٣"},  # an Arabic-Indic 3
        {**phq9(), "item_5": "-1"},
        {**phq9(), "questionnaire": "phq9\x00"},
        {**phq9(), "questionnaire": "pcl5"},
        {"questionnaire": "\x00" * 5000},
        {},
    ],
    ids=["nul", "huge", "unicode-digit", "negative", "nul-questionnaire", "other-questionnaire", "all-nul", "empty"],
)
def test_bad_input_is_refused_kindly_and_nothing_is_kept(client, visit, data):
    response = client.post(url(visit), data)
    assert response.status_code in (200, 400)
    page = main(response)
    assert "<form" in page and 'name="questionnaire" value="phq9"' in page  # the questions again
    assert not Measurement.objects.exists()


def test_a_forged_post_without_the_csrf_token_is_refused(visit):
    guarded = Client(enforce_csrf_checks=True)
    assert guarded.post(url(visit), phq9()).status_code == 403
    assert not Measurement.objects.exists()


# --- Which visits, and when --------------------------------------------------------------------


def test_an_unknown_token_and_a_visit_that_is_no_treatment_are_not_found(client):
    assert client.get("/appointments/" + "x" * 43 + "/check-in/").status_code == 404
    consultation = treatment_visit(slug="consultation")
    assert client.get(url(consultation)).status_code == 404
    assert client.post(url(consultation), phq9()).status_code == 404
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("slug", ["esketamine-nasal", "iv-infusion"])
def test_the_window_opens_three_days_before_and_closes_at_the_start(client, now, slug):
    visit = treatment_visit(slug=slug, start=NOW + datetime.timedelta(days=3, minutes=1))
    early = client.get(url(visit))
    assert early.status_code == 200 and "<form" not in main(early)
    assert "open on Monday, December 7 at 8:01 AM" in words(main(early))
    assert client.post(url(visit), phq9()).status_code == 409

    now.shift(datetime.timedelta(minutes=1))  # exactly three days before
    assert "<form" in main(client.get(url(visit)))
    now.shift(datetime.timedelta(days=3) - datetime.timedelta(seconds=1))  # a second before the start
    assert client.post(url(visit), phq9()).status_code == 302
    now.shift(datetime.timedelta(seconds=1))  # the start
    late = client.post(url(visit), gad7())
    assert late.status_code == 409 and "closed when it began" in words(main(late))
    assert list(Measurement.objects.values_list("instrument", flat=True)) == ["phq9"]


@pytest.mark.parametrize("status", [Appointment.Status.CANCELLED, Appointment.Status.COMPLETED])
def test_a_visit_not_going_ahead_asks_nothing(client, status):
    visit = treatment_visit(status=status)
    page = main(client.get(url(visit)))
    assert "<form" not in page
    response = client.post(url(visit), phq9())
    assert response.status_code == 409 and not Measurement.objects.exists()
    if status == Appointment.Status.CANCELLED:
        assert "This visit is not going ahead" in words(main(response))


# --- The safety path ---------------------------------------------------------------------------


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_a_safety_answer_shows_the_crisis_lines_at_once_and_alerts_staff_once(
    client, visit, django_capture_on_commit_callbacks, item9
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(visit), phq9(item9=item9))
    assert response.status_code == 302
    page = main(client.get(url(visit)))
    panel = page.split('<div class="crisis-panel" role="alert"')[1].split("will reach out")[0]
    assert page.index("crisis-panel") < page.index("<form")  # first on the page, before the next questions
    assert 'href="tel:988"' in panel and 'href="sms:988"' in panel and 'href="tel:911"' in panel
    assert "will reach out to you by phone" in page
    assert "When you are ready: Anxiety (GAD-7)" in words(page)

    [alert] = mail.outbox
    measurement = Measurement.objects.get()
    assert alert.to == [ONCALL] and alert.subject == "Urgent: a patient's check-in needs a clinician today"
    assert f"/admin/booking/patient/{visit.patient_id}/record/#scores" in alert.body
    for private in ("Alex", "Rivera", "alex", "0123", "PHQ", "dead", visit.token, "esketamine", "ketamine"):
        assert private not in alert.subject + alert.body
    assert measurement.staff_alerted_at == NOW

    # A second submission, the task retried, the sweep: no second e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(visit), phq9(item9=item9))
    alert_staff_of_check_in_safety_answer.delay(measurement.pk)
    alert_staff_of_check_in_safety_answer.apply(args=[measurement.pk])
    assert measurements.missed_check_in_alerts_send(now=NOW + datetime.timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1

    # The help stays on the page through the rest of the check-in.
    client.post(url(visit), gad7())
    done = main(client.get(url(visit)))
    assert "crisis-panel" in done and "Thank you — we have your answers" in done


def test_a_safety_answer_sent_again_after_a_first_with_0_is_never_dropped(
    client, visit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(visit), phq9())  # item 9: 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url(visit), phq9(item9=1))  # a second tab, answered differently
    assert again.status_code == 200
    page = main(again)
    assert page.index("crisis-panel") < page.index("<form") and 'href="tel:988"' in page
    assert "We had already received your PHQ-9 answers" in words(page)
    [alert] = mail.outbox
    kept = Measurement.objects.get()
    assert kept.score == 8 and kept.answers[8] == 0 and kept.staff_alerted_at == NOW  # one point, the first
    assert "crisis-panel" in main(client.get(url(visit)))  # and the help stays
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(visit), phq9(item9=3))
    assert len(mail.outbox) == 1


def test_the_alert_is_only_for_a_safety_answer_and_waits_for_a_recipient(visit, settings, caplog, monkeypatch):
    monkeypatch.setattr(measurements, "enqueue_on_commit", lambda task, *args: None)
    calm, _created = measurements.check_in_answer(appointment=visit, instrument="phq9", answers=[3] * 8 + [0])
    assert measurements.check_in_safety_alert(measurement_id=calm.pk) is False  # a stray or forged task id
    Measurement.objects.all().delete()
    urgent, _created = measurements.check_in_answer(appointment=visit, instrument="phq9", answers=[0] * 8 + [1])
    settings.SCREENING_ALERT_EMAILS = []  # and no staff account with an e-mail
    assert measurements.check_in_safety_alert(measurement_id=urgent.pk) is False
    assert "no staff e-mail to alert" in caplog.text and str(urgent.pk) in caplog.text
    urgent.refresh_from_db()
    assert urgent.staff_alerted_at is None  # still owed: the sweep tries again once someone can be told
    assert mail.outbox == []


def test_the_task_carries_only_the_scores_id(visit, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(measurements, "enqueue_on_commit", lambda task, *args: queued.append((task.name, args)))
    measurements.check_in_answer(appointment=visit, instrument="phq9", answers=[0] * 8 + [1])
    assert queued == [("treatment.tasks.alert_staff_of_check_in_safety_answer", (Measurement.objects.get().pk,))]


def test_an_alert_lost_with_the_broker_is_sent_once_by_the_sweep(visit, monkeypatch, now):
    monkeypatch.setattr(measurements, "enqueue_on_commit", lambda task, *args: None)  # the message is lost
    measurements.check_in_answer(appointment=visit, instrument="phq9", answers=[0] * 8 + [2])
    assert mail.outbox == []
    assert measurements.missed_check_in_alerts_send(now=NOW + datetime.timedelta(minutes=1)) == 0  # not yet lost
    assert measurements.missed_check_in_alerts_send(now=NOW + datetime.timedelta(minutes=3)) == 1
    assert measurements.missed_check_in_alerts_send(now=NOW + datetime.timedelta(minutes=4)) == 0
    assert len(mail.outbox) == 1 and Measurement.objects.get().staff_alerted_at is not None


def test_no_alert_and_no_crisis_panel_when_item9_is_0(client, visit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(visit), phq9(3, 3, 3, 3, 3, 3, 3, 3, 0))
    assert "crisis-panel" not in main(client.get(url(visit)))
    assert mail.outbox == [] and measurements.missed_check_in_alerts_send(now=NOW + datetime.timedelta(minutes=5)) == 0


def test_a_safety_answer_sent_too_late_still_shows_the_crisis_lines(client, now):
    visit = treatment_visit(start=NOW + datetime.timedelta(hours=1))
    now.shift(datetime.timedelta(hours=2))
    response = client.post(url(visit), phq9(item9=2))
    assert response.status_code == 409 and "crisis-panel" in main(response)
    assert 'href="tel:988"' in main(response) and not Measurement.objects.exists()
    # Nobody was told, and the page does not say otherwise: it asks the patient to tell the clinic.
    assert "has been told" not in words(main(response)) and mail.outbox == []
    assert "our team has not been told through this page. Please tell the staff" in words(main(response))


# --- The rate limit ----------------------------------------------------------------------------


def test_kept_answers_are_rate_limited_per_address_with_a_kind_page(client):
    visits = [treatment_visit() for _ in range(2)]
    with override_settings(RATELIMIT_ENABLE=True, RATE_LIMITS={"check-in": "1/h"}):
        assert client.post(url(visits[0]), phq9(), REMOTE_ADDR="203.0.113.9").status_code == 302
        over = client.post(url(visits[1]), phq9(), REMOTE_ADDR="203.0.113.9")
        assert over.status_code == 429 and 'href="tel:988"' in over.content.decode()
        assert client.post(url(visits[1]), phq9(), REMOTE_ADDR="203.0.113.10").status_code == 302
    assert Measurement.objects.count() == 2


# --- What leads to it: the visit page and the day-before reminder ------------------------------


def test_the_visit_page_links_to_the_check_in_while_it_is_open_and_thanks_after(client, visit, now):
    manage = f"/appointments/{visit.token}/"
    assert f'href="{url(visit)}"' in client.get(manage).content.decode()
    client.post(url(visit), phq9())
    client.post(url(visit), gad7())
    page = client.get(manage).content.decode()
    assert f'href="{url(visit)}"' not in page and "Your answers to the two questionnaires are in" in page

    later = treatment_visit(start=NOW + datetime.timedelta(days=10), patient=visit.patient)
    page = words(client.get(f"/appointments/{later.token}/").content.decode())
    assert "Two short questionnaires about how you have been, from Monday, December 14, 8:00 AM." in page
    now.shift(datetime.timedelta(days=1, hours=3))  # the visit has begun: nothing more to ask
    assert "questionnaires" not in words(client.get(manage).content.decode())
    consultation = treatment_visit(slug="consultation", start=NOW + datetime.timedelta(days=2))
    assert "/check-in/" not in client.get(f"/appointments/{consultation.token}/").content.decode()


def test_the_visit_page_reads_a_fixed_number_of_queries_whatever_the_scores(client, visit, django_assert_num_queries):
    manage = f"/appointments/{visit.token}/"
    client.post(url(visit), phq9())
    client.get(manage)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(manage)
    for n in range(30):
        Measurement.objects.create(
            patient=visit.patient, instrument="gad7", score=n % 21, taken_at=NOW - datetime.timedelta(days=n + 1),
            source=Measurement.Source.CLINICIAN,
        )  # fmt: skip
    with django_assert_num_queries(len(few)):
        assert words(client.get(manage).content.decode()).count("GAD-7") >= 30


def day_before_email(appointment):
    reminder, _created = Reminder.objects.get_or_create(
        appointment=appointment, kind=ReminderKind.DAY_BEFORE, due_at=appointment.start, for_start=appointment.start
    )
    message = reminder_email(reminder)
    return message.body, message.alternatives[0][0]


@pytest.mark.parametrize("slug", ["esketamine-nasal", "iv-infusion"])
def test_the_day_before_reminder_of_a_treatment_links_to_the_check_in(settings, slug):
    visit = treatment_visit(slug=slug)
    text, html = day_before_email(visit)
    link = f"{settings.SITE_URL}{url(visit)}"
    assert link in text and f'<a href="{link}">Answer the questionnaires</a>' in html
    assert "two short questionnaires" in text


def test_the_day_before_reminder_asks_nothing_once_the_check_in_is_done(client, visit):
    client.post(url(visit), phq9())
    text, _html = day_before_email(visit)
    assert "/check-in/" in text  # one of two is in
    client.post(url(visit), gad7())
    text, html = day_before_email(visit)
    assert "/check-in/" not in text and "/check-in/" not in html


def test_the_day_before_reminder_of_a_consultation_has_no_check_in():
    text, html = day_before_email(treatment_visit(slug="consultation"))
    assert "/check-in/" not in text and "/check-in/" not in html
