"""Signing in to the staff site over HTTP: the password, then the second factor; the lockout
after five failures of either; automatic logoff; a manager's reset of a lost device."""

import datetime
import os
import subprocess
import sys

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import services
from tests.factories import staff_sign_in, staff_with_role

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
T0 = datetime.datetime(2026, 12, 7, 13, 0, tzinfo=datetime.UTC)


def sign_in(client, username, password=PASSWORD, next_url="/admin/"):
    return client.post(f"/admin/login/?next={next_url}", {"username": username, "password": password})


def code_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def enrolled(user) -> TOTPDevice:
    device = services.totp_device_pending(user=user)
    services.totp_device_confirm(device=device)
    device.refresh_from_db()
    return device


def test_a_password_alone_does_not_open_the_staff_site():
    clinician = staff_with_role("Clinician")
    client = Client()
    response = sign_in(client, clinician.username, next_url="/admin/screening/screening/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/second-factor/enrol/")
    for url in ("/admin/", "/admin/screening/screening/"):
        page = client.get(url, follow=True)
        assert page.redirect_chain[-1][0].startswith("/admin/second-factor/enrol/")
        assert b"Set up your second factor" in page.content


def test_two_factors_are_required_by_default_when_debug_is_off():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "y" * 20 + "z1234567890",
        "ALLOWED_HOSTS": "clinic.example.org",
        "DJANGO_SETTINGS_MODULE": "telemed.settings",
    }
    env.pop("OTP_REQUIRED", None)
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.OTP_REQUIRED)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "True"


def test_first_sign_in_enrols_an_authenticator_app_and_gives_backup_codes():
    clinician = staff_with_role("Clinician")
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, clinician.username, next_url="/admin/booking/patient/")
        page = client.get("/admin/second-factor/enrol/?next=/admin/booking/patient/").content.decode()
        assert "<svg" in page and 'id="secret"' in page  # the QR code drawn here, and the key to type
        device = TOTPDevice.objects.get(user=clinician, confirmed=False)
        wrong = client.post("/admin/second-factor/enrol/", {"code": "000000", "next": "/admin/booking/patient/"})
        assert "That code did not work" in wrong.content.decode()
        clock.shift(datetime.timedelta(seconds=5))  # django-otp waits a moment after a wrong code
        done = client.post("/admin/second-factor/enrol/", {"code": code_now(device), "next": "/admin/booking/patient/"})
        assert client.get("/admin/booking/patient/").status_code == 200
    codes = StaticDevice.objects.get(user=clinician).token_set.values_list("token", flat=True)
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)


def test_later_sign_ins_ask_for_a_code_and_a_backup_code_works_once():
    clinician = staff_with_role("Clinician")
    enrolled(clinician)
    backup = StaticDevice.objects.get(user=clinician).token_set.first().token
    for attempt in range(2):
        client = Client()
        response = sign_in(client, clinician.username)
        assert response["Location"].startswith("/admin/second-factor/?next=")
        answer = client.post("/admin/second-factor/", {"code": backup.upper(), "next": "/admin/"})
        if attempt == 0:
            assert answer.status_code == 302 and client.get("/admin/").status_code == 200
        else:
            assert "That code did not work" in answer.content.decode()
            assert client.get("/admin/").status_code == 302


def test_five_wrong_passwords_lock_the_username_and_a_manager_unlocks_it():
    clinician = staff_with_role("Clinician")
    for _ in range(4):
        assert sign_in(Client(), clinician.username, "not the password").status_code == 200
    assert sign_in(Client(), clinician.username, "not the password").status_code == 429  # the fifth
    locked = sign_in(Client(), clinician.username)  # the right password, now refused
    assert locked.status_code == 429
    assert "paused for 15 minutes" in locked.content.decode()
    # A name that does not exist reads the same: nothing tells whether it does.
    for _ in range(5):
        sign_in(Client(), "nobody-here", "not the password")
    unknown = sign_in(Client(), "nobody-here")
    assert unknown.status_code == 429
    assert unknown.content.decode().replace("nobody-here", "") == locked.content.decode().replace(
        clinician.username, ""
    )

    manager = Client()
    staff_sign_in(manager, staff_with_role("Manager"))
    listing = manager.get("/admin/axes/accessattempt/").content.decode()
    assert clinician.username in listing and "Locked Out" in listing
    from axes.models import AccessAttempt

    ids = list(AccessAttempt.objects.filter(username=clinician.username).values_list("pk", flat=True))
    manager.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": ids})
    assert sign_in(Client(), clinician.username).status_code == 302


def test_the_lockout_lasts_fifteen_minutes():
    with time_machine.travel(T0, tick=False) as clock:
        clinician = staff_with_role("Clinician")
        for _ in range(5):
            sign_in(Client(), clinician.username, "not the password")
        clock.shift(datetime.timedelta(minutes=14))
        assert sign_in(Client(), clinician.username).status_code == 429
        clock.shift(datetime.timedelta(minutes=2))
        assert sign_in(Client(), clinician.username).status_code == 302


def test_wrong_codes_count_towards_the_lockout_and_end_the_half_open_session():
    clinician = staff_with_role("Clinician")
    enrolled(clinician)
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, clinician.username)
        for _ in range(4):
            assert "That code did not work" in client.post("/admin/second-factor/", {"code": "000000"}).content.decode()
            clock.shift(datetime.timedelta(seconds=20))  # past django-otp's pause after a wrong code
        fifth = client.post("/admin/second-factor/", {"code": "000000"})
        assert fifth.status_code == 429 and "paused for 15 minutes" in fifth.content.decode()
        assert "_auth_user_id" not in client.session  # signed out: the password step must be done again
        assert sign_in(Client(), clinician.username).status_code == 429


def test_a_code_typed_during_the_pause_after_a_wrong_one_is_not_counted_as_a_failure():
    from axes.models import AccessAttempt

    clinician = staff_with_role("Clinician")
    device = enrolled(clinician)
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, clinician.username)
        client.post("/admin/second-factor/", {"code": "000000"})
        too_soon = client.post("/admin/second-factor/", {"code": code_now(device)}).content.decode()
        assert "Please wait a few seconds" in too_soon
        assert AccessAttempt.objects.get(username=clinician.username).failures_since_start == 1
        clock.shift(datetime.timedelta(seconds=2))
        assert client.post("/admin/second-factor/", {"code": code_now(device)}).status_code == 302


def test_a_backup_code_does_not_slow_down_the_apps_next_code():
    clinician = staff_with_role("Clinician")
    device = enrolled(clinician)
    backup = StaticDevice.objects.get(user=clinician).token_set.first().token
    with time_machine.travel(T0, tick=False):
        client = Client()
        sign_in(client, clinician.username)
        assert client.post("/admin/second-factor/", {"code": backup}).status_code == 302
        device.refresh_from_db()
        assert device.throttling_failure_count == 0


def test_an_idle_staff_session_ends_and_the_sign_in_page_says_why(settings):
    with time_machine.travel(T0, tick=False) as clock:
        client = Client()
        staff_sign_in(client, staff_with_role("Front desk"))
        assert client.get("/admin/").status_code == 200
        clock.shift(datetime.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT - 60))
        assert client.get("/admin/").status_code == 200  # activity keeps it open
        clock.shift(datetime.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT + 1))
        page = client.get("/admin/booking/appointment/", follow=True)
        assert page.redirect_chain[-1][0].startswith("/admin/login/")
        assert "signed out after 15 minutes without activity" in page.content.decode()
        assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_after_eight_hours_however_active():
    with time_machine.travel(T0, tick=False) as clock:
        client = Client()
        staff_sign_in(client, staff_with_role("Front desk"))
        for _ in range(8 * 6):  # a request every 10 minutes for 8 hours
            assert client.get("/admin/").status_code == 200
            clock.shift(datetime.timedelta(minutes=10))
        clock.shift(datetime.timedelta(minutes=1))
        page = client.get("/admin/", follow=True)
        assert "staff sessions last at most 8 hours" in page.content.decode()


def test_a_patients_session_is_not_ended_by_the_staff_timeout(settings):
    from tests.screening import personas

    with time_machine.travel(T0, tick=False) as clock:
        client = Client()
        client.post("/screening/step/about/", personas.about())
        clock.shift(datetime.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT * 3))
        page = client.get("/screening/step/about/").content.decode()
        assert personas.about()["full_name"] in page  # what they typed is still there


def test_a_manager_resets_a_lost_device_the_colleague_is_signed_out_and_enrols_again():
    clinician = staff_with_role("Clinician")
    device = enrolled(clinician)
    colleague = Client()
    sign_in(colleague, clinician.username)
    colleague.post("/admin/second-factor/", {"code": code_now(device), "next": "/admin/"})
    assert colleague.get("/admin/").status_code == 200

    manager = Client()
    staff_sign_in(manager, staff_with_role("Manager"))
    manager.post("/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [clinician.pk]})
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not StaticDevice.objects.filter(user=clinician).exists()
    page = colleague.get("/admin/", follow=True)
    assert "reset by a manager" in page.content.decode()
    again = sign_in(Client(), clinician.username)
    assert again["Location"].startswith("/admin/second-factor/enrol/")


def test_a_manager_cannot_see_or_change_a_superuser():
    root = get_user_model().objects.create_superuser("root", "root@clinic.example.org", PASSWORD)
    manager = Client()
    staff_sign_in(manager, staff_with_role("Manager"))
    assert "root" not in manager.get("/admin/auth/user/").content.decode()
    assert manager.get(f"/admin/auth/user/{root.pk}/change/").status_code == 302  # "doesn't exist"
    page = manager.get(f"/admin/auth/user/{staff_with_role('Front desk').pk}/change/").content.decode()
    assert 'name="groups"' in page and 'name="is_superuser"' not in page and 'name="user_permissions"' not in page


def test_common_passwords_are_refused_for_staff_accounts():
    manager = Client()
    staff_sign_in(manager, staff_with_role("Manager"))
    form = {
        "username": "newcolleague",
        "password1": "password1234",
        "password2": "password1234",
        "usable_password": "true",
    }
    page = manager.post("/admin/auth/user/add/", form).content.decode()
    assert "This password is too common." in page
    assert not get_user_model().objects.filter(username="newcolleague").exists()


def test_new_backup_codes_replace_the_old_ones_and_need_both_factors():
    clinician = staff_with_role("Clinician")
    enrolled(clinician)
    old = set(StaticDevice.objects.get(user=clinician).token_set.values_list("token", flat=True))
    half_open = Client()
    sign_in(half_open, clinician.username)  # password only
    assert half_open.post("/admin/second-factor/backup-codes/").status_code == 302
    assert set(StaticDevice.objects.get(user=clinician).token_set.values_list("token", flat=True)) == old

    client = Client()
    staff_sign_in(client, clinician)
    assert b"New backup codes" in client.get("/admin/").content
    page = client.post("/admin/second-factor/backup-codes/").content.decode()
    new = set(StaticDevice.objects.get(user=clinician).token_set.values_list("token", flat=True))
    assert len(new) == 10 and not new & old and all(code in page for code in new)
    assert client.get("/admin/second-factor/backup-codes/").status_code == 405  # a POST only: a link cannot do it
