"""An urgent screening still unreviewed URGENT_REVIEW_HOURS (clock hours) after submission:
the clinicians are e-mailed once more, once, with a link and nothing about the person."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import transaction

from screening.models import ReviewDecision, Screening
from screening.services import overdue_urgent_reviews_alert, screening_review
from screening.tasks import alert_overdue_urgent_reviews
from telemed.celery import app
from tests.booking.conftest import CLINIC
from tests.factories import StaffUserFactory, staff_with_role
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

# A Friday evening: the four hours run through the night, as they should for a safety answer.
SUBMITTED = datetime.datetime(2026, 12, 11, 21, 30, tzinfo=CLINIC)


def later(**delta) -> datetime.datetime:
    return SUBMITTED + datetime.timedelta(**delta)


@pytest.fixture
def clinicians():
    """Who should get the e-mail (a clinician and a manager) and who should not."""
    wanted = [staff_with_role("Clinician", email="dr.chen@clinic.example.org"), staff_with_role("Manager")]
    staff_with_role("Front desk")
    staff_with_role("Clinician", is_active=False)
    staff_with_role("Clinician", email="")
    return sorted(user.email for user in wanted)


def urgent_screening(steps=personas.URGENT) -> Screening:
    with time_machine.travel(SUBMITTED, tick=False), transaction.atomic():
        screening = submitted_screening(steps)
    mail.outbox.clear()  # the first alert is not what these tests are about
    return screening


def alert_at(moment: datetime.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return overdue_urgent_reviews_alert()


def test_nothing_before_4_hours_then_one_email_to_the_clinicians_once(clinicians):
    screening = urgent_screening()
    assert alert_at(later(hours=3, minutes=59)) == 0
    assert mail.outbox == []

    assert alert_at(later(hours=4, minutes=1)) == 1
    [email] = mail.outbox
    assert sorted(email.to) == clinicians
    assert email.subject == "Urgent: a screening is still waiting for review"
    assert "An urgent screening has waited 4 hours for review." in email.body
    assert f"{settings.SITE_URL}/admin/screening/screening/{screening.pk}/review/" in email.body
    screening.refresh_from_db()
    assert screening.review_overdue_alerted_at == later(hours=4, minutes=1)

    assert alert_at(later(hours=4, minutes=6)) == 0
    assert alert_at(later(days=2)) == 0
    assert len(mail.outbox) == 1


def test_the_email_says_nothing_of_the_person_their_answers_or_treatment(clinicians):
    screening = urgent_screening()
    alert_at(later(hours=9))
    [email] = mail.outbox
    text = f"{email.subject}\n{email.body}".lower()
    assert "waited 9 hours" in text
    for private in (
        screening.full_name,
        screening.email,
        screening.phone,
        "rivera",
        "better off dead",  # PHQ-9 item 9's words
        "phq",
        "ketamine",
        "infusion",
        "esketamine",
        "depression",
        str(screening.phq9_total) + " /",
    ):
        assert private.lower() not in text


def test_no_email_for_a_reviewed_or_a_non_urgent_screening(clinicians):
    reviewed = urgent_screening()
    urgent_screening(personas.ELIGIBLE)
    urgent_screening(personas.REVIEW)
    with time_machine.travel(later(hours=1), tick=False):
        screening_review(screening=reviewed, by=StaffUserFactory(), decision=ReviewDecision.CONTACTED, note="Called.")
    assert alert_at(later(hours=12)) == 0
    assert mail.outbox == []


def test_a_screening_reviewed_after_the_alert_is_not_alerted_again(clinicians):
    screening = urgent_screening()
    assert alert_at(later(hours=5)) == 1
    with time_machine.travel(later(hours=6), tick=False):
        screening_review(screening=screening, by=StaffUserFactory(), decision=ReviewDecision.CONTACTED, note="x")
    assert alert_at(later(hours=10)) == 0
    assert len(mail.outbox) == 1


def test_the_setting_changes_the_delay(clinicians, settings):
    settings.URGENT_REVIEW_HOURS = 1
    urgent_screening()
    assert alert_at(later(minutes=59)) == 0
    assert alert_at(later(hours=1, minutes=1)) == 1
    assert "waited 1 hour for review." in mail.outbox[0].body


def test_without_a_clinician_e_mail_the_urgent_alert_addresses_are_used(settings):
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    staff_with_role("Clinician", email="")
    urgent_screening()
    assert alert_at(later(hours=5)) == 1
    assert mail.outbox[0].to == ["oncall@clinic.example.org"]


def test_the_task_runs_the_service_on_the_beat_every_5_minutes(clinicians):
    urgent_screening()
    with time_machine.travel(later(hours=5), tick=False):
        assert alert_overdue_urgent_reviews.apply().get() == 1
    entry = app.conf.beat_schedule["alert-overdue-urgent-reviews"]
    assert entry["task"] == "screening.tasks.alert_overdue_urgent_reviews" and entry["schedule"] == 5 * 60


@pytest.mark.django_db(transaction=True)
def test_two_beat_runs_at_once_send_one_email(clinicians):
    urgent_screening()
    sent: list[int] = []
    run_at_once(lambda: sent.append(overdue_urgent_reviews_alert(now=later(hours=5))), 4)
    assert sorted(sent) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1
