"""Each role × each admin page, action and custom view: allowed or refused as SPEC ("Staff:
roles, security, audit") says. Refused pages answer 403 (or send to sign-in); a refused action
is not offered and changes nothing."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from booking.models import Appointment
from screening.models import Screening
from tests.factories import StaffUserFactory, staff_sign_in, staff_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

FRONT, CLIN, MAN = "Front desk", "Clinician", "Manager"
ROLES = [FRONT, CLIN, MAN]


def signed_in(role: str) -> Client:
    client = Client()
    staff_sign_in(client, staff_with_role(role))
    return client


# page (a format string over the records' ids), and the roles that may open it
PAGES = [
    ("/admin/", ROLES),
    ("/admin/booking/appointment/", ROLES),
    ("/admin/booking/appointment/{visit}/change/", ROLES),
    ("/admin/booking/appointment/add/", [FRONT, MAN]),
    ("/admin/booking/patient/", ROLES),
    ("/admin/booking/patient/{patient}/change/", ROLES),
    ("/admin/booking/clinician/{clinician}/change/", ROLES),
    ("/admin/booking/clinician/add/", [MAN]),
    ("/admin/booking/appointmenttype/", ROLES),
    ("/admin/booking/appointmenttype/add/", [MAN]),
    ("/admin/reminders/reminder/", ROLES),
    ("/admin/screening/screening/", ROLES),
    ("/admin/screening/screening/{screening}/change/", ROLES),
    ("/admin/education/article/", [CLIN, MAN]),
    ("/admin/education/article/add/", [MAN]),
    ("/admin/auth/user/", [MAN]),
    ("/admin/auth/user/add/", [MAN]),
    ("/admin/auth/group/", [MAN]),
    ("/admin/auditlog/logentry/", [MAN]),
    ("/admin/axes/accessattempt/", [MAN]),
    ("/admin/axes/accesslog/", [MAN]),
    # Nobody deletes a clinical record (cancel, archive; retention commands only).
    ("/admin/booking/appointment/{visit}/delete/", []),
    ("/admin/booking/patient/{patient}/delete/", []),
    ("/admin/screening/screening/{screening}/delete/", []),
    ("/admin/reminders/reminder/{reminder}/delete/", []),
    ("/admin/screening/screening/add/", []),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "allowed"), PAGES, ids=[page for page, _ in PAGES])
def test_each_role_opens_only_its_pages(records, role, page, allowed):
    url = page.format(**{name: getattr(obj, "pk", None) for name, obj in records.items()})
    status = signed_in(role).get(url).status_code
    assert (status == 200) == (role in allowed), f"{role} {url}: {status}"
    if role not in allowed:
        assert status in (302, 403)


def test_not_even_a_superuser_deletes_a_clinical_record(records, admin_client):
    for url in (
        f"/admin/booking/appointment/{records['visit'].pk}/delete/",
        f"/admin/screening/screening/{records['screening'].pk}/delete/",
    ):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Appointment.objects.filter(pk=records["visit"].pk).exists()
    assert Screening.objects.filter(pk=records["screening"].pk).exists()
    page = admin_client.get("/admin/booking/appointment/").content.decode()
    assert 'value="delete_selected"' not in page


@pytest.mark.parametrize("role", ROLES)
def test_only_clinicians_and_managers_see_a_screenings_answers_and_scores(records, role):
    screening = records["screening"]
    client = signed_in(role)
    page = client.get(f"/admin/screening/screening/{screening.pk}/change/").content.decode()
    listing = client.get("/admin/screening/screening/").content.decode()
    sees_answers = role != FRONT
    assert ("PHQ-9" in page) is sees_answers
    assert ("Answers" in page) is sees_answers
    assert ("column-phq9_total" in listing) is sees_answers
    # Everyone sees who it is, the outcome and the review state (the urgent flag is the outcome).
    assert "Needs clinician review" in page and "Needs clinician review" in listing
    assert screening.email in page


def action(client, url, name, ids, **extra):
    return client.post(url, {"action": name, "_selected_action": ids, **extra}, follow=True)


def offered(client, url, name) -> bool:
    return f'value="{name}"' in client.get(url).content.decode()


@pytest.mark.parametrize(("role", "allowed"), [(FRONT, False), (CLIN, True), (MAN, True)])
def test_reviewing_a_screening_is_a_clinical_decision(records, role, allowed):
    """The review itself (tests/screening/test_review.py has its whole matrix)."""
    screening = records["screening"]
    client = signed_in(role)
    response = client.post(
        f"/admin/screening/screening/{screening.pk}/review/", {"decision": "contacted", "note": "Called back."}
    )
    assert response.status_code == (302 if allowed else 403)
    screening.refresh_from_db()
    assert (screening.reviewed_at is not None) is allowed


@pytest.mark.parametrize(("role", "allowed"), [(FRONT, True), (CLIN, False), (MAN, True)])
def test_sending_a_reminder_again_is_the_front_desks(records, role, allowed):
    client = signed_in(role)
    assert offered(client, "/admin/reminders/reminder/", "resend") is allowed


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_cancel_a_visit_with_a_reason_and_the_patient_is_told(
    records, role, django_capture_on_commit_callbacks
):
    visit = records["visit"]
    client = signed_in(role)
    mail.outbox.clear()
    asked = action(client, "/admin/booking/appointment/", "cancel_visits", [visit.pk])
    assert "Reason" in asked.content.decode()  # asked first; nothing changed yet
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.CONFIRMED
    missing = action(client, "/admin/booking/appointment/", "cancel_visits", [visit.pk], confirm="yes", reason="")
    page = missing.content.decode()  # the error at the top links to the field, which says it too
    assert '<a href="#id_reason">Please give the reason for the cancellation.</a>' in page
    assert 'aria-describedby="reason-help reason-error" aria-invalid="true"' in page
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        action(
            client, "/admin/booking/appointment/", "cancel_visits", [visit.pk], confirm="yes", reason="Clinician ill"
        )
    visit.refresh_from_db()
    assert (visit.status, visit.cancel_reason) == (Appointment.Status.CANCELLED, "Clinician ill")
    assert [email.to for email in mail.outbox] == [[visit.patient.email]]  # the cancellation notice


def test_a_view_only_user_cannot_cancel_a_visit(records):
    viewer = StaffUserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client = Client()
    staff_sign_in(client, viewer)
    assert not offered(client, "/admin/booking/appointment/", "cancel_visits")
    action(client, "/admin/booking/appointment/", "cancel_visits", [records["visit"].pk], confirm="yes", reason="x")
    assert Appointment.objects.get(pk=records["visit"].pk).status == Appointment.Status.CONFIRMED


@pytest.mark.parametrize(("role", "allowed"), [(FRONT, False), (CLIN, False), (MAN, True)])
def test_only_managers_reset_a_colleagues_second_factor_and_unlock_sign_ins(records, role, allowed):
    Client().post("/admin/login/", {"username": "someone", "password": "wrong password"})  # a lockout row to act on
    client = signed_in(role)
    assert offered(client, "/admin/auth/user/", "reset_second_factor") is allowed
    assert offered(client, "/admin/axes/accessattempt/", "unlock") is allowed


def test_the_front_desk_keeps_the_schedule_but_not_who_the_clinician_is(records):
    clinician = records["clinician"]
    page = signed_in(FRONT).get(f"/admin/booking/clinician/{clinician.pk}/change/").content.decode()
    assert 'name="working_hours-0-start"' in page and 'name="time_off-TOTAL_FORMS"' in page
    assert 'name="name"' not in page  # shown, not editable


@pytest.mark.parametrize("role", ROLES)
def test_no_staff_page_shows_a_patients_token(records, role):
    client = signed_in(role)
    visit, patient = records["visit"], records["patient"]
    pages = [
        f"/admin/booking/appointment/{visit.pk}/change/",
        "/admin/booking/appointment/",
        f"/admin/booking/patient/{patient.pk}/change/",
        f"/admin/screening/screening/{records['screening'].pk}/change/",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for token in (visit.token, patient.booking_token, records["screening"].token):
            assert token not in html, url
