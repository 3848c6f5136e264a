import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from screening.models import Screening
from screening.services import missed_urgent_alerts_send, screening_step_save, screening_submit
from telemed.celery import app
from tests.factories import StaffUserFactory, staff_sign_in
from tests.screening import personas
from tests.screening.test_flow import complete
from tests.workers import wait_until_drained


def submitted_screening(steps) -> Screening:
    """Build and submit a screening through the services, as the views do."""
    from screening.steps import STEPS_BY_SLUG

    screening = None
    for slug, data in steps:
        form = STEPS_BY_SLUG[slug].form_class(data)
        assert form.is_valid(), form.errors
        screening = screening_step_save(screening=screening, step=slug, cleaned=form.cleaned_data, typed={})
    return screening_submit(screening=screening)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_exactly_one_staff_email_for_an_urgent_screening(settings):
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            screening = submitted_screening(personas.URGENT)
        deadline = time.monotonic() + 20
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_until_drained()  # no message left that could send one twice
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Urgent: a screening needs a clinician today"
    screening.refresh_from_db()
    assert screening.staff_alerted_at is not None


@pytest.mark.django_db
def test_an_urgent_alert_whose_message_was_lost_is_sent_by_the_sweep_once(settings):
    """The broker keeps no copy of a message (settings: ack emulation off): the row says what is owed."""
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    with transaction.atomic():  # alerts are queued on commit, which never comes in this test: as if lost
        lost = submitted_screening(personas.URGENT)
        recent = submitted_screening(personas.URGENT)
    mail.outbox.clear()
    three_minutes_ago = timezone.now() - datetime.timedelta(minutes=3)
    Screening.objects.filter(pk=lost.pk).update(submitted_at=three_minutes_ago, safety_flagged_at=three_minutes_ago)
    assert missed_urgent_alerts_send() == 1  # not the one submitted seconds ago: its alert may be on its way
    assert missed_urgent_alerts_send() == 0
    assert [email.subject for email in mail.outbox] == ["Urgent: a screening needs a clinician today"]
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.staff_alerted_at is not None and recent.staff_alerted_at is None


@pytest.mark.django_db
def test_purge_removes_only_unfinished_screenings_older_than_7_days(client, capsys):
    old_draft = screening_step_save(
        screening=None, step="about", cleaned={**personas.about(), "date_of_birth": datetime.date(1980, 1, 1)}, typed={}
    )
    new_draft = screening_step_save(
        screening=None, step="about", cleaned={**personas.about(), "date_of_birth": datetime.date(1980, 1, 1)}, typed={}
    )
    finished = complete(client, personas.ELIGIBLE)
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    Screening.objects.filter(pk__in=[old_draft.pk, finished.pk]).update(updated_at=eight_days_ago)
    call_command("purge_unfinished_screenings")
    assert set(Screening.objects.values_list("pk", flat=True)) == {new_draft.pk, finished.pk}
    assert "Deleted 1 unfinished screening(s)." in capsys.readouterr().out


def test_purge_runs_on_the_beat_schedule():
    assert (
        app.conf.beat_schedule["purge-unfinished-screenings"]["task"] == "screening.tasks.purge_unfinished_screenings"
    )


@pytest.mark.django_db
def test_admin_shows_a_readable_summary_and_the_review_takes_it_off_the_unreviewed_list(client):
    screening = submitted_screening(
        personas.persona(item9=1, conditions=("aneurysm_or_avm", "seizures"), medications=("lamotrigine",))
    )
    staff = StaffUserFactory(is_superuser=True)
    staff_sign_in(client, staff)
    html = client.get(f"/admin/screening/screening/{screening.pk}/change/").content.decode()
    assert "Urgent + Not suitable" in html
    assert "PHQ-9</th><td>7 / 27 (mild)" in html
    assert "Aneurysmal vascular disease or arteriovenous malformation" in html and "SPRAVATO" in html
    assert "discuss:lamotrigine" in html
    assert "Thoughts that you would be better off dead" in html  # answers in the questionnaire's words
    listing = client.get("/admin/screening/screening/?urgent__exact=1&reviewed=no").content.decode()
    assert f"Screening #{screening.pk}" in listing
    response = client.post(
        f"/admin/screening/screening/{screening.pk}/review/",
        {"decision": "contacted", "note": "Called back; safe tonight."},
        follow=True,
    )
    assert f"Screening #{screening.pk} reviewed: Contacted the patient." in response.content.decode()
    screening.refresh_from_db()
    assert screening.reviewed_by == staff and screening.reviewed_at is not None
    assert f"Screening #{screening.pk}" not in client.get("/admin/screening/screening/?reviewed=no").content.decode()


@pytest.mark.django_db
def test_staff_cannot_add_a_screening_by_hand(client):
    staff_sign_in(client, StaffUserFactory(is_superuser=True))
    assert client.get("/admin/screening/screening/add/").status_code == 403
