"""The safety answer and the age limit, as a person meets them: help on the very next page, one
alert to staff whether or not the screening is finished, adults only from the first step."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from screening.models import Screening
from screening.services import missed_urgent_alerts_send, unfinished_screenings_purge
from tests.frame import assert_frame
from tests.screening import personas
from tests.screening.test_flow import complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]
ONCALL = "oncall@clinic.example.org"


def answer_up_to_phq9(client, *, item9: int):
    steps = personas.persona(item9=item9)
    for slug, data in steps[:2]:
        assert client.post(f"/screening/step/{slug}/", data).status_code == 302
    return client.post("/screening/step/phq9/", steps[2][1])


@pytest.fixture
def oncall(settings):
    settings.SCREENING_ALERT_EMAILS = [ONCALL]


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_a_safety_answer_leads_straight_to_support_and_alerts_staff_at_once(
    client, oncall, django_capture_on_commit_callbacks, item9
):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer_up_to_phq9(client, item9=item9)
    assert response.status_code == 302 and response["Location"] == "/screening/support/"
    page = client.get("/screening/support/").content.decode()
    main = page.split('<main id="main"')[1]
    assert 'href="tel:988"' in main and 'href="sms:988"' in main and 'href="tel:911"' in main
    assert "will reach out to you by phone" in main
    assert 'href="/screening/step/gad7/">Carry on with the screening' in main
    assert_frame(page)
    # The person stops here: the alert has gone all the same, with no answers in it.
    [alert] = mail.outbox
    assert alert.to == [ONCALL]
    assert "has not finished the screening" in alert.body
    draft = Screening.objects.get()
    assert f"/admin/screening/screening/{draft.pk}/change/" in alert.body
    for private in ("Alex", "Rivera", "alex@example.org", "0123", "PHQ", "dead"):
        assert private not in alert.subject + alert.body
    assert draft.submitted_at is None and draft.urgent and draft.staff_alerted_at is not None
    assert (draft.full_name, draft.phone) == ("Alex Rivera", "(555) 010-0123")  # step 1's details, for the call


def test_no_support_page_and_no_alert_when_item9_is_0(client, oncall, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer_up_to_phq9(client, item9=0)
    assert response["Location"] == "/screening/step/gad7/"
    assert mail.outbox == []
    assert Screening.objects.get().safety_flagged_at is None


def test_finishing_after_the_support_page_sends_no_second_alert(client, oncall, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        screening = complete(client, personas.URGENT)
    assert len(mail.outbox) == 1
    assert screening.outcome == "urgent"
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    main = html.split('<main id="main"')[1]
    assert main.index("Please reach out for support now") < main.index("What happens next")


def test_changing_item9_back_to_0_keeps_the_screening_urgent(client, oncall, django_capture_on_commit_callbacks):
    steps = personas.persona(item9=2)
    with django_capture_on_commit_callbacks(execute=True):
        answer_up_to_phq9(client, item9=2)
        steps[2] = ("phq9", personas.phq9(item9=0))
        screening = complete(client, steps)
    assert screening.urgent and screening.outcome == "urgent"
    assert len(mail.outbox) == 1


def test_a_lost_alert_message_for_an_unfinished_screening_is_sent_by_the_sweep(client, oncall):
    answer_up_to_phq9(client, item9=1)  # on-commit callbacks are not run here: the message is lost
    assert mail.outbox == []
    draft = Screening.objects.get()
    assert missed_urgent_alerts_send(now=draft.safety_flagged_at + datetime.timedelta(minutes=1)) == 0  # in flight
    assert missed_urgent_alerts_send(now=draft.safety_flagged_at + datetime.timedelta(minutes=3)) == 1
    assert len(mail.outbox) == 1
    assert missed_urgent_alerts_send(now=draft.safety_flagged_at + datetime.timedelta(minutes=4)) == 0


def test_an_unfinished_screening_with_a_safety_answer_is_not_purged(client, oncall):
    answer_up_to_phq9(client, item9=1)
    client.session.flush()
    other = Screening.objects.create(full_name="Left", email="left@example.org")
    later = Screening.objects.get(pk=other.pk).updated_at + datetime.timedelta(days=8)
    assert unfinished_screenings_purge(now=later) == 1
    assert list(Screening.objects.values_list("full_name", flat=True)) == ["Alex Rivera"]


def test_the_support_page_without_a_draft_still_helps(client):
    html = client.get("/screening/support/").content.decode()
    assert 'href="tel:988"' in html and 'href="/screening/">Carry on with the screening' in html


@pytest.mark.parametrize("age", [0, 12, 17])
def test_under_18_stops_at_step_1_with_help_for_young_people(client, age):
    response = client.post("/screening/step/about/", personas.about(age=age))
    assert response.status_code == 200
    html = response.content.decode()
    main = html.split('<main id="main"')[1]
    assert "Our clinic treats adults" in main
    assert "school counselor" in main and "pediatrician" in main
    assert 'href="tel:988"' in main and 'href="sms:988"' in main and 'href="tel:911"' in main
    assert "<form" not in main  # nothing more is asked
    assert Screening.objects.count() == 0  # nothing of a minor's is kept
    assert client.get("/screening/step/concerns/")["Location"] == "/screening/step/about/"
    assert_frame(html)


@pytest.mark.parametrize(("today", "born", "adult"), [
    ("2026-12-01", "2008-12-01", True), ("2026-12-01", "2008-12-02", False),
    ("2026-02-28", "2008-02-29", False), ("2026-03-01", "2008-02-29", True),
])  # fmt: skip
def test_18_starts_on_the_18th_birthday(client, time_machine, today, born, adult):
    time_machine.move_to(datetime.datetime.fromisoformat(today + "T12:00:00-05:00"))
    response = client.post("/screening/step/about/", {**personas.about(), "date_of_birth": born})
    assert (response.status_code == 302) is adult
    assert ("Our clinic treats adults" in response.content.decode()) is not adult


def test_going_back_to_step_1_and_giving_an_under_18_date_forgets_the_draft(client):
    for slug, data in personas.ELIGIBLE[:2]:
        client.post(f"/screening/step/{slug}/", data)
    assert Screening.objects.count() == 1
    client.post("/screening/step/about/", personas.about(age=16))
    assert Screening.objects.count() == 0


def test_a_review_result_names_each_answer_a_clinician_will_look_at(client):
    screening = complete(
        client, personas.persona(conditions=("uncontrolled_hypertension", "seizures"), medications=("maoi_14d",))
    )
    assert screening.outcome == "review"
    main = client.get(f"/screening/result/{screening.token}/").content.decode().split('<main id="main"')[1]
    listed = re.findall(r"<li>(.*?)</li>", main.split("The answers a clinician will look at with you:")[1])[:3]
    assert listed == [
        "High blood pressure that is not under control",
        "Seizures or epilepsy",
        "An MAOI antidepressant in the last 14 days",
    ]


def test_absolute_and_relative_reasons_are_all_shown_crisis_first(client):
    screening = complete(client, personas.persona(item9=1, conditions=("aneurysm_or_avm", "psychosis")))
    main = client.get(f"/screening/result/{screening.token}/").content.decode().split('<main id="main"')[1]
    crisis = main.index("Please reach out for support now")
    absolute = main.index("Aneurysmal vascular disease or arteriovenous malformation")
    relative = main.index("Psychosis or schizophrenia")
    assert crisis < absolute < relative


def test_back_from_a_phq9_with_a_safety_answer_still_shows_help_first(
    client, oncall, django_capture_on_commit_callbacks
):
    steps = personas.persona(item9=1)
    for slug, data in steps[:2]:
        client.post(f"/screening/step/{slug}/", data)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/screening/step/phq9/", {**steps[2][1], "action": "back"})
    assert response["Location"] == "/screening/support/"
    assert len(mail.outbox) == 1


def test_an_under_18_who_gave_a_safety_answer_is_kept_for_staff_with_their_age(client, oncall):
    answer_up_to_phq9(client, item9=2)
    response = client.post("/screening/step/about/", personas.about(age=15))
    assert "Our clinic treats adults" in response.content.decode()
    kept = Screening.objects.get()  # staff must still reach them
    assert kept.urgent and kept.safety_flagged_at is not None and kept.submitted_at is None
    assert kept.date_of_birth == datetime.date.fromisoformat(personas.about(age=15)["date_of_birth"])
    assert "stated_under_18" in kept.flags
    assert client.get("/screening/step/concerns/")["Location"] == "/screening/step/about/"  # the session let go


def test_a_draft_flagged_in_another_tab_is_not_deleted_by_an_under_18_answer_in_this_one(client, oncall):
    for slug, data in personas.ELIGIBLE[:2]:
        client.post(f"/screening/step/{slug}/", data)
    draft = Screening.objects.get()
    Screening.objects.filter(pk=draft.pk).update(safety_flagged_at=draft.updated_at, urgent=True)  # the other tab
    client.post("/screening/step/about/", personas.about(age=16))
    assert Screening.objects.filter(pk=draft.pk, urgent=True).exists()


def test_staff_lists_show_an_unfinished_flagged_screening_first(client, admin_client, oncall):
    complete(client, personas.ELIGIBLE)
    client.session.flush()
    answer_up_to_phq9(Client(), item9=1)
    response = admin_client.get("/admin/screening/screening/")
    assert response.status_code == 200
    rows = re.findall(r"<tr[^>]*>.*?</tr>", response.content.decode().split("<tbody>")[1], re.S)
    assert "Unfinished" in rows[0] and "Eligible" in rows[1]
    flagged = Screening.objects.get(submitted_at__isnull=True)
    assert admin_client.get(f"/admin/screening/screening/{flagged.pk}/change/").status_code == 200


def test_a_safety_answer_changed_back_to_0_is_named_for_the_clinician(client, oncall):
    steps = personas.persona(item9=2)
    answer_up_to_phq9(client, item9=2)
    steps[2] = ("phq9", personas.phq9(item9=0))
    screening = complete(client, steps)
    assert screening.reasons[0]["rule"] == "phq9_item9_changed"
    assert screening.step_answers["phq9"]["item_9"] == 0
