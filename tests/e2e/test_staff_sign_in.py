"""Staff sign-in in Chromium: the password, then the authenticator app's enrolment and its backup
codes at the first sign-in, a wrong and then a right code at the next, and a backup code that
works once. Axe on every page of the two steps, the error included."""

import base64
import re
import time
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from staff import services
from tests.e2e.test_screening import assert_accessible
from tests.factories import staff_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
CODE_REFUSED = "That code did not work."


def at(path: str):
    """For wait_for_url: this path, whatever the query string (?next=...)."""
    return lambda url: urlsplit(url).path == path


def sign_in_with_password(page, username: str, *, check_accessible: bool = False) -> None:
    page.goto("/admin/login/")
    if check_accessible:
        assert_accessible(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def type_code(page, code: str, button: str) -> None:
    page.get_by_role("textbox", name="Code", exact=True).fill(code)
    page.get_by_role("button", name=button).click()


def expect_admin_index(page) -> None:
    page.wait_for_url(at("/admin/"))
    expect(page.get_by_role("heading", level=1, name="Today's work")).to_be_visible()
    expect(page.locator("#site-name")).to_contain_text("Clinic staff")


def log_out(page) -> None:
    page.locator("#user-tools").get_by_role("button", name="Log out").click()
    page.wait_for_url(at("/admin/logout/"))
    expect(page.get_by_role("link", name="Log in again")).to_be_visible()


def secret_shown(page) -> bytes:
    """The key under the QR code, as a person would type it into an app without a camera."""
    typed = "".join(page.locator("#secret").inner_text().split())
    return base64.b32decode(typed + "=" * (-len(typed) % 8))


def next_code(page, device: TOTPDevice) -> str:
    """The app's code once the server will take it: a later 30-second step than the code last
    accepted (django-otp refuses a code twice), and after the throttle that a wrong code starts
    (1 second after the first failure). Waits for those conditions, nothing longer."""
    deadline = time.monotonic() + device.step + 5
    while True:
        device.refresh_from_db()
        app = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if app.t() > device.last_t and device.verify_is_allowed()[0]:
            return f"{app.token():0{device.digits}d}"
        assert time.monotonic() < deadline, "the device never took a new code"
        page.wait_for_timeout(250)


def test_a_clinician_sets_up_the_app_then_signs_in_with_its_codes(page, page_watch):
    clinician = staff_with_role("Clinician")

    # First sign-in: the password, then the authenticator app is set up.
    sign_in_with_password(page, clinician.username, check_accessible=True)
    page.wait_for_url(at("/admin/second-factor/enrol/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second factor")
    expect(page.get_by_role("img", name="QR code for your authenticator app").locator("svg")).to_be_visible()
    assert_accessible(page)
    type_code(page, f"{totp(secret_shown(page)):06d}", "Confirm and continue")

    # The backup codes, shown once (the answer to the POST: same URL).
    expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
    shown = page.get_by_role("list", name="Backup codes").get_by_role("listitem").all_inner_texts()
    assert len(shown) == 10
    assert sorted(shown) == sorted(StaticToken.objects.filter(device__user=clinician).values_list("token", flat=True))
    assert_accessible(page)
    page.get_by_role("link", name="I have kept my backup codes — continue").click()
    expect_admin_index(page)
    device = TOTPDevice.objects.get(user=clinician)
    assert device.confirmed
    log_out(page)

    # Next sign-in: the password, then a code; a wrong one first.
    sign_in_with_password(page, clinician.username)
    page.wait_for_url(at("/admin/second-factor/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Second step: your code")
    assert_accessible(page)
    type_code(page, "000000", "Sign in")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(CODE_REFUSED)  # the answer to the POST: same URL
    field = page.get_by_role("textbox", name="Code", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(CODE_REFUSED)))  # read out with the field
    expect(page).to_have_title("Error: Second step: your code | Clinic staff")
    assert_accessible(page)
    assert urlsplit(page.url).path == "/admin/second-factor/"

    type_code(page, next_code(page, device), "Sign in")
    expect_admin_index(page)
    assert page_watch.console_errors == []


def test_a_backup_code_signs_in_once_only(page, page_watch):
    clinician = staff_with_role("Clinician")
    codes = services.totp_device_confirm(device=services.totp_device_pending(user=clinician))

    sign_in_with_password(page, clinician.username)
    page.wait_for_url(at("/admin/second-factor/"))
    type_code(page, codes[0], "Sign in")
    expect_admin_index(page)
    log_out(page)

    sign_in_with_password(page, clinician.username)
    page.wait_for_url(at("/admin/second-factor/"))
    type_code(page, codes[0], "Sign in")
    expect(page.get_by_role("alert")).to_contain_text(CODE_REFUSED)
    expect(page.get_by_role("textbox", name="Code", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    # Still half signed in: the admin sends the person back to the second step.
    page.goto("/admin/")
    page.wait_for_url(at("/admin/second-factor/"))
    assert StaticToken.objects.filter(device__user=clinician).count() == 9
    assert page_watch.console_errors == []
