"""The screening as a patient goes through it, over HTTP."""

import datetime
import re

import pytest
from django.core import mail

from screening.models import Screening
from tests.frame import assert_frame
from tests.screening import personas

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def complete(client, steps) -> Screening:
    for slug, data in steps:
        response = client.post(f"/screening/step/{slug}/", data)
        assert response.status_code == 302, (
            slug,
            re.findall(r'class="invalid-feedback".*?<strong>(.*?)</strong>', response.content.decode(), re.S),
        )
    response = client.get("/screening/review/")
    assert response.status_code == 200
    response = client.post("/screening/review/")
    assert response.status_code == 302
    token = response["Location"].split("/")[-2]
    assert response["Location"] == f"/screening/result/{token}/"
    return Screening.objects.get(token=token)


def test_eligible_person_is_offered_a_consultation(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        screening = complete(client, personas.ELIGIBLE)
    assert (screening.outcome, screening.phq9_total, screening.phq9_band) == ("eligible", 6, "mild")
    assert (screening.gad7_total, screening.gad7_band, screening.pcl5_total) == (5, "mild", None)
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    assert f'href="/book/?screening={screening.token}">Book a consultation</a>' in html
    assert "Please reach out for support now" not in html
    assert_frame(html)
    assert mail.outbox == []


def test_review_person_with_ptsd_answers_the_pcl5(client):
    screening = complete(client, personas.REVIEW)
    assert screening.outcome == "review"
    assert (screening.pcl5_total, screening.pcl5_positive) == (40, True)
    assert [reason["rule"] for reason in screening.reasons] == ["seizures"]
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    assert "need a clinician&#x27;s closer look" in html or "need a clinician's closer look" in html
    assert "Book a consultation" in html


def test_not_suitable_person_gets_a_kind_explanation_and_no_booking(client):
    screening = complete(client, personas.NOT_SUITABLE)
    assert screening.outcome == "not_suitable"
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    assert "offer you ketamine treatment at our clinic" in html
    assert "History of bleeding in the brain" in html
    assert "/book/" not in html.split("<main")[1].split("</main>")[0]
    assert 'href="tel:5550100199"' in html


def test_urgent_person_sees_crisis_help_first_and_staff_get_one_email(
    client, django_capture_on_commit_callbacks, settings
):
    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        screening = complete(client, personas.URGENT)
    assert len(callbacks) == 2  # queued when the safety answer was saved, and again on submit
    assert screening.outcome == "urgent" and screening.urgent
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    main = html.split('<main id="main"')[1]
    assert main.index("Please reach out for support now") < main.index("What happens next")
    assert 'href="tel:988"' in main and 'href="sms:988"' in main
    assert "Book a consultation" in main  # care is not refused
    [email] = mail.outbox
    assert email.to == ["oncall@clinic.example.org"]
    assert email.subject == "Urgent: a screening needs a clinician today"
    assert f"/admin/screening/screening/{screening.pk}/change/" in email.body
    for private in ("Alex", "Rivera", "alex@example.org", "0123", "depress", "PHQ"):
        assert private not in email.subject + email.body
    screening.refresh_from_db()
    assert screening.staff_alerted_at is not None


def test_urgent_alert_is_sent_at_most_once(client, django_capture_on_commit_callbacks, settings):
    from screening.services import urgent_screening_alert

    settings.SCREENING_ALERT_EMAILS = ["oncall@clinic.example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        screening = complete(client, personas.URGENT)
    assert urgent_screening_alert(screening_id=screening.pk) is False
    assert len(mail.outbox) == 1


def test_urgent_with_an_absolute_contraindication_records_both(client):
    screening = complete(client, personas.persona(item9=1, conditions=("aneurysm_or_avm",)))
    assert (screening.outcome, screening.clinical_outcome) == ("urgent", "not_suitable")
    html = client.get(f"/screening/result/{screening.token}/").content.decode()
    main = html.split('<main id="main"')[1]
    assert main.index("Please reach out for support now") < main.index("offer you ketamine treatment")
    assert "Book a consultation" not in main


def test_answers_survive_a_reload_and_back_keeps_what_was_typed(client):
    client.post("/screening/step/about/", personas.about())
    html = client.get("/screening/step/about/").content.decode()
    assert 'value="Alex Rivera"' in html
    # Half-typed, invalid answers on the next step are kept when going Back.
    client.post(
        "/screening/step/concerns/", {"concerns": ["other"], "other_concern": "Sleep problems", "action": "back"}
    )
    html = client.get("/screening/step/concerns/").content.decode()
    assert 'value="Sleep problems"' in html
    assert re.search(r'value="other"[^>]*checked', html)


def test_invalid_answers_show_errors_and_keep_what_was_typed(client):
    data = {**personas.about(), "email": "not-an-email", "date_of_birth": "2999-01-01", "phone": "12"}
    response = client.post("/screening/step/about/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "Please correct 3 answers below." in html
    assert "can&#x27;t be in the future" in html or "can't be in the future" in html
    assert 'value="Alex Rivera"' in html and 'value="not-an-email"' in html


def test_a_step_cannot_be_skipped(client):
    response = client.get("/screening/step/phq9/")
    assert response.status_code == 302
    assert response["Location"] == "/screening/step/about/"


def test_pcl5_is_only_asked_when_ptsd_is_a_concern(client):
    for slug, data in personas.ELIGIBLE[:2]:
        client.post(f"/screening/step/{slug}/", data)
    assert client.get("/screening/step/pcl5/").status_code == 404


def test_result_link_expires_after_30_days(client):
    screening = complete(client, personas.ELIGIBLE)
    Screening.objects.filter(pk=screening.pk).update(submitted_at=screening.submitted_at - datetime.timedelta(days=31))
    response = client.get(f"/screening/result/{screening.token}/")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_result_token_is_unguessable_and_unknown_tokens_404(client):
    screening = complete(client, personas.ELIGIBLE)
    assert len(screening.token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert client.get("/screening/result/not-a-real-token/").status_code == 404


def test_resubmitting_the_review_does_not_make_a_second_screening(client):
    complete(client, personas.ELIGIBLE)
    response = client.post("/screening/review/")
    assert response.status_code == 302
    assert Screening.objects.count() == 1


def test_no_patient_data_in_urls_or_logs(client, caplog):
    caplog.set_level("DEBUG")
    screening = complete(client, personas.URGENT)
    assert "Alex" not in caplog.text and "alex@example.org" not in caplog.text
    assert str(screening) == f"Screening #{screening.pk}"


def test_a_nul_character_typed_before_going_back_is_not_a_server_error(client):
    client.post("/screening/step/about/", personas.about())
    response = client.post("/screening/step/concerns/", {"other_concern": "a\x00b", "action": "back"})
    assert response.status_code == 302
    assert 'value="ab"' in client.get("/screening/step/concerns/").content.decode()


def test_review_shows_every_answer_in_the_words_the_person_saw(client):
    for slug, data in personas.ELIGIBLE:
        client.post(f"/screening/step/{slug}/", data)
    html = client.get("/screening/review/").content.decode()
    gad7 = html.split('id="review-gad7"')[1].split("</section>")[0]
    shown = re.findall(r'<dd class="col-sm-5 fw-semibold">(.*?)</dd>', gad7)
    assert shown == ["Nearly every day", "More than half the days"] + ["Not at all"] * 5
    assert "Feeling nervous, anxious, or on edge" in gad7
    assert "Alex Rivera" in html and "New York" in html


def test_query_budgets_of_the_screening_pages(client, django_assert_max_num_queries):
    for slug, data in personas.REVIEW:
        client.post(f"/screening/step/{slug}/", data)
    with django_assert_max_num_queries(2):  # the session and the draft
        assert client.get("/screening/step/pcl5/").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get("/screening/review/").status_code == 200
    token = client.post("/screening/review/")["Location"].split("/")[-2]
    with django_assert_max_num_queries(1):
        assert client.get(f"/screening/result/{token}/").status_code == 200
