"""The care team on the home page: clinicians staff chose to show, with what patients may see
(name, credentials, a short bio as plain text), never what is staff-only (e-mail, hours)."""

import datetime
import io
import re

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from booking.models import Clinician, WorkingHours
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role

pytestmark = pytest.mark.django_db


def care_team_html(client) -> str:
    html = client.get("/").content.decode()
    match = re.search(r'<section class="home-section care-team".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_the_home_page_shows_the_clinicians_on_the_site_in_their_order(client):
    ClinicianFactory(name="Dr. Zoe Last", credentials="MD", bio="Second by order.", shown_on_site=True, site_order=2)
    ClinicianFactory(
        name="Dr. Amy First", credentials="DO, psychiatrist", bio="First.", shown_on_site=True, site_order=1
    )
    ClinicianFactory(name="Hidden Person", bio="Not on the site.", shown_on_site=False)
    section = care_team_html(client)
    assert section.index("Dr. Amy First") < section.index("Dr. Zoe Last")
    assert "DO, psychiatrist" in section and "Second by order." in section
    assert "Hidden Person" not in section and "Not on the site." not in section
    # The drawn placeholder carries the initials, honorific left out; decorative, the name is beside it.
    assert re.search(r'<svg class="illo illo-avatar"[^>]*aria-hidden="true"', section)
    assert ">AF</text>" in section and ">ZL</text>" in section
    assert "<img" not in section


def test_with_nobody_shown_the_home_page_has_no_empty_care_team(client):
    ClinicianFactory(shown_on_site=False)
    assert care_team_html(client) == ""
    assert "Start the screening" in client.get("/").content.decode()


def test_staff_only_details_never_reach_the_public_page(client):
    clinician = ClinicianFactory(
        name="Dr. Private", email="private.clinician@clinic.example.org", shown_on_site=True, bio="Hello."
    )
    WorkingHours.objects.create(clinician=clinician, weekday=0, start=datetime.time(7, 13), end=datetime.time(11, 47))
    html = client.get("/").content.decode()
    assert "Dr. Private" in html
    assert "private.clinician" not in html and "7:13" not in html and "11:47" not in html


def test_a_bio_is_plain_text_whatever_was_typed(client):
    ClinicianFactory(
        name="Dr. <b>Bold</b>",
        shown_on_site=True,
        bio='<script>alert(1)</script> <a href="https://evil.example">x</a> **not bold** & more',
    )
    section = care_team_html(client)
    assert "<script>" not in section and "<a href" not in section and "<b>" not in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "**not bold** &amp; more" in section  # no Markdown either
    assert "Dr. &lt;b&gt;Bold&lt;/b&gt;" in section


@pytest.mark.parametrize(
    ("name", "initials"),
    [("Dr. Maya Chen", "MC"), ("Jordan Reyes", "JR"), ("Prof. Ana María de la Cruz", "AC"), ("Cher", "C"),
     ("dr. élodie martin", "ÉM"), ("Dr.", "")],
)  # fmt: skip
def test_initials_for_the_placeholder(name, initials):
    assert Clinician(name=name).initials == initials


def queries_for_home(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_the_home_page_runs_one_query_however_large_the_team(client):
    ClinicianFactory.create_batch(2, shown_on_site=True, bio="A bio.")
    few = queries_for_home(client)
    ClinicianFactory.create_batch(40, shown_on_site=True, bio="A bio.")
    assert queries_for_home(client) == few == 1


def change_form_data(clinician, **changes) -> dict:
    data = {
        "name": clinician.name,
        "credentials": clinician.credentials,
        "email": clinician.email,
        "active": "on",
        "appointment_types": [str(pk) for pk in clinician.appointment_types.values_list("pk", flat=True)],
        "bio": clinician.bio,
        "site_order": str(clinician.site_order),
        **{f"{prefix}-{field}": value for prefix in ("working_hours", "time_off")
           for field, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"),
                                ("MAX_NUM_FORMS", "1000"))},
    }  # fmt: skip
    if clinician.shown_on_site:
        data["shown_on_site"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def signed_in(role: str) -> Client:
    client = Client()
    staff_sign_in(client, staff_with_role(role))
    return client


def test_a_manager_writes_the_bio_shows_the_clinician_and_sets_the_order(client):
    clinician = ClinicianFactory(name="Dr. New", credentials="MD")
    manager = signed_in("Manager")
    url = f"/admin/booking/clinician/{clinician.pk}/change/"
    form = manager.get(url).content.decode()
    assert re.search(r'<textarea name="bio"[^>]*maxlength="600"', form)
    response = manager.post(
        url, change_form_data(clinician, bio="Sees adults for consultations.", shown_on_site="on", site_order="3")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    clinician.refresh_from_db()
    assert (clinician.bio, clinician.shown_on_site, clinician.site_order) == ("Sees adults for consultations.", True, 3)
    assert "Sees adults for consultations." in care_team_html(client)
    entry = LogEntry.objects.get_for_object(clinician).latest("timestamp")  # who changed the public words
    assert entry.actor.groups.get().name == "Manager" and "bio" in entry.changes_dict


def test_a_bio_longer_than_600_characters_is_refused_with_the_text_kept():
    clinician = ClinicianFactory()
    long_bio = "Caring and careful. " * 31  # 620 characters
    response = signed_in("Manager").post(
        f"/admin/booking/clinician/{clinician.pk}/change/", change_form_data(clinician, bio=long_bio)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ensure this value has at most 600 characters" in html
    assert "Caring and careful." in html  # what was typed is still in the form
    clinician.refresh_from_db()
    assert clinician.bio == ""


def test_a_nul_byte_in_a_bio_is_refused_kindly():
    clinician = ClinicianFactory()
    response = signed_in("Manager").post(
        f"/admin/booking/clinician/{clinician.pk}/change/", change_form_data(clinician, bio="Kind\x00words")
    )
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def test_the_front_desk_sees_the_public_profile_but_cannot_change_it():
    clinician = ClinicianFactory(bio="Written by a manager.", shown_on_site=True, site_order=1)
    front_desk = signed_in("Front desk")
    url = f"/admin/booking/clinician/{clinician.pk}/change/"
    page = front_desk.get(url).content.decode()
    assert "Written by a manager." in page
    assert 'name="bio"' not in page and 'name="shown_on_site"' not in page and 'name="site_order"' not in page
    front_desk.post(url, change_form_data(clinician, bio="Changed by the desk.", shown_on_site=None, site_order="9"))
    clinician.refresh_from_db()
    assert (clinician.bio, clinician.shown_on_site, clinician.site_order) == ("Written by a manager.", True, 1)


@override_settings(DEBUG=True)
def test_seed_demo_shows_its_three_clinicians_with_bios(client):
    call_command("seed_demo", stdout=io.StringIO())
    team = list(Clinician.objects.on_site())
    assert [clinician.name for clinician in team] == ["Dr. Maya Chen", "Dr. Sam Okafor", "Jordan Reyes"]
    assert all(40 < len(clinician.bio) <= 600 for clinician in team)
    section = care_team_html(client)
    assert all(clinician.name in section for clinician in team)
