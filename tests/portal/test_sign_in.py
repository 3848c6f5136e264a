"""Signing in to the portal: a single-use link by e-mail, no enumeration, an idle and an absolute
limit, sign-out; bad input and rate limits over HTTP."""

import datetime
import hashlib

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase

from booking.models import Patient
from portal import services
from portal.models import SignInLink
from tests.portal.conftest import ask_for_link, emailed_token, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

SENT = "If this address has visits with us, we have sent a sign-in link; it works once, for 30 minutes."


def text(response) -> str:
    return response.content.decode()


def test_known_and_unknown_addresses_get_the_same_page_and_only_a_patient_gets_mail(client, two_visits):
    known = ask_for_link(client, "Patient1@Example.org")
    unknown = ask_for_link(Client(), "nobody@example.org")

    assert known.status_code == unknown.status_code == 200
    assert SENT in text(known) and SENT in text(unknown)
    # The same page, byte for byte, but for the CSRF token each form carries.
    strip = lambda response: text(response).split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert strip(known) == strip(unknown)
    # Both requests queued the task (the same work, the same time); only the patient's sent mail.
    assert SignInLink.objects.count() == 2
    assert SignInLink.objects.filter(patient__isnull=True, sent_at__isnull=True).count() == 1
    assert [message.to for message in mail.outbox] == [["patient1@example.org"]]
    message = mail.outbox[0]
    assert message.subject == "Your sign-in link"
    assert "30 minutes" in message.body


def test_the_task_carries_an_id_and_the_database_only_a_hash(client, two_visits, monkeypatch):
    queued = []
    monkeypatch.setattr("portal.services.enqueue_on_commit", lambda task, *args: queued.append((task.name, args)))
    ask_for_link(client, "patient1@example.org")
    link = SignInLink.objects.get()
    assert queued == [("portal.tasks.send_sign_in_link", (link.pk,))]
    assert link.token_hash == ""  # drawn by the task, when it sends

    services.sign_in_link_send(link_id=link.pk)
    token = emailed_token()
    link.refresh_from_db()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(SignInLink.objects.values().get())
    # Sent once: a second run of the task (a redelivery) sends nothing more.
    assert services.sign_in_link_send(link_id=link.pk) is False
    assert len(mail.outbox) == 1


def test_the_link_shows_a_button_and_only_a_post_signs_in(client, two_visits):
    ask_for_link(client, "patient1@example.org")
    token = emailed_token()

    page = client.get(f"/my/{token}/")  # a mail scanner opening the link
    assert page.status_code == 200 and "Sign in" in text(page)
    assert page["Referrer-Policy"] == "same-origin"  # other sites never see the address
    assert SignInLink.objects.get(sent_at__isnull=False).used_at is None

    before = client.session.session_key
    response = client.post(f"/my/{token}/")
    assert response.status_code == 302 and response["Location"] == "/my/"  # the token leaves the address bar
    assert client.session.session_key != before  # a new session key at sign-in
    home = client.get("/my/")
    assert "Upcoming visits" in text(home) and "Sign out" in text(home)


def test_a_link_works_once(client, two_visits):
    ask_for_link(client, "patient1@example.org")
    token = emailed_token()
    assert client.post(f"/my/{token}/").status_code == 302

    again = Client().post(f"/my/{token}/")
    assert again.status_code == 410
    assert "This link has been used already" in text(again)
    assert 'name="email"' in text(again)  # a new one offered at once
    assert "Upcoming visits" not in text(Client().get("/my/"))


def test_a_link_expires_after_thirty_minutes(client, two_visits, frozen_now):
    ask_for_link(client, "patient1@example.org")
    token = emailed_token()
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=29, seconds=59), tick=False):
        assert Client().get(f"/my/{token}/").status_code == 200
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=30), tick=False):
        response = client.post(f"/my/{token}/")
        assert response.status_code == 410 and "This link has expired" in text(response)
        assert "Upcoming visits" not in text(client.get("/my/"))


def test_an_unknown_or_malformed_token_is_refused_kindly(client):
    response = client.get("/my/" + "x" * 43 + "/")
    assert response.status_code == 410 and "This link does not work" in text(response)
    assert client.get("/my/" + "x" * 500 + "/").status_code == 404


def test_the_portal_signs_out_after_thirty_idle_minutes_and_after_the_absolute_limit(client, two_visits, frozen_now):
    sign_in(client)
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=29), tick=False):
        assert "Upcoming visits" in text(client.get("/my/"))  # activity restarts the idle clock
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=58), tick=False):
        assert "Upcoming visits" in text(client.get("/my/"))
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=88), tick=False):
        page = text(client.get("/my/"))
        assert "Upcoming visits" not in page and "signed out after a while without activity" in page

    sign_in(client)
    start = frozen_now
    for minutes in range(25, 4 * 60, 25):  # busy all along, yet four hours is the most
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            assert "Upcoming visits" in text(client.get("/my/"))
    with time_machine.travel(start + datetime.timedelta(hours=4), tick=False):
        assert "Upcoming visits" not in text(client.get("/my/"))


def test_sign_out_ends_the_session(client, two_visits):
    sign_in(client)
    response = client.post("/my/sign-out/", follow=True)
    assert "You are signed out." in text(response)
    assert "Upcoming visits" not in text(client.get("/my/"))
    sign_in(client)
    assert client.get("/my/sign-out/")["Location"] == "/my/"  # only the button signs out
    assert "Upcoming visits" in text(client.get("/my/"))


def test_an_anonymised_record_gets_no_mail_and_its_link_stops_working(client, two_visits):
    ask_for_link(client, "patient1@example.org")
    token = emailed_token()
    Patient.objects.update(anonymised_at=datetime.datetime.now(datetime.UTC))
    assert client.post(f"/my/{token}/").status_code == 410
    mail.outbox.clear()
    ask_for_link(Client(), "patient1@example.org")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please enter your e-mail address."),
        ("not an address", "Please enter an e-mail address such as name@example.com."),
        ("pat\x00ient1@example.org", "Please enter an e-mail address such as name@example.com."),
        ("a" * 5000 + "@example.org", "254 characters at most"),
        ("ünïcødé@example.org", "Please enter an e-mail address such as name@example.com."),
        ("name@exämple.org", None),
    ],
)
def test_bad_input_gets_a_kind_message_and_never_a_500(client, typed, message):
    response = ask_for_link(client, typed)
    if message is None:  # an international address is an address
        assert response.status_code == 200 and SENT in text(response)
        return
    assert response.status_code == 400
    assert message in text(response)
    assert SignInLink.objects.count() == 0


def test_the_form_needs_its_csrf_token(two_visits):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/my/", {"email": "patient1@example.org"}).status_code == 403
    page = browser.get("/my/")
    csrf = page.cookies["csrftoken"].value
    assert browser.post("/my/", {"email": "patient1@example.org", "csrfmiddlewaretoken": csrf}).status_code == 200


def test_rate_limited_per_address_typed_and_per_connection(client, settings, two_visits):
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "portal-link": "4/h", "portal-link-email": "2/h"}
    assert ask_for_link(client, "patient1@example.org").status_code == 200
    assert ask_for_link(client, "PATIENT1@example.org").status_code == 200
    limited = ask_for_link(client, "patient1@example.org")
    assert limited.status_code == 429 and "988" in text(limited)
    assert ask_for_link(client, "other@example.org").status_code == 200  # another address, same connection
    assert ask_for_link(client, "third@example.org").status_code == 429  # the connection's limit
    assert len(mail.outbox) == 2


def test_the_token_never_reaches_a_log_line(client, two_visits, caplog):
    from telemed.logs import redact

    ask_for_link(client, "patient1@example.org")
    token = emailed_token()
    client.get(f"/my/{token}/")
    client.post(f"/my/{token}/")
    assert token not in caplog.text and "patient1@example.org" not in caplog.text
    assert token not in redact(f'"POST /my/{token}/ HTTP/1.1" 403')  # a CSRF or request line


def test_a_link_whose_message_was_lost_goes_with_the_next_sweep_while_it_still_works(two_visits, frozen_now):
    with TestCase.captureOnCommitCallbacks(execute=False):  # the broker took nothing
        known = services.sign_in_link_request(email="patient1@example.org")
        services.sign_in_link_request(email="nobody@example.org")
    assert services.missed_sign_in_links_send() == 0  # not lost yet: the normal path may still send
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=3), tick=False):
        assert services.missed_sign_in_links_send() == 1
        assert services.missed_sign_in_links_send() == 0
    assert [message.to for message in mail.outbox] == [["patient1@example.org"]]
    known.refresh_from_db()
    assert known.sent_at is not None
    later = services.sign_in_link_request(email="patient1@example.org")
    with time_machine.travel(frozen_now + datetime.timedelta(minutes=30), tick=False):
        assert services.missed_sign_in_links_send() == 0  # expired: nothing to send any more
    later.refresh_from_db()
    assert later.sent_at is None
