"""The managers' REMS monitoring forms in the admin: the list with each form's deadline, the print
view, the CSV of one form (every field of the REMS form) or of the list, "mark submitted"; who may
do what; what each view costs in queries; the audit trail of every view."""

import csv
import io
from datetime import datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import Patient
from tests.factories import StaffUserFactory, staff_sign_in, staff_with_role
from tests.treatment.test_rems import CLINIC, charted_session
from treatment import rems
from treatment.models import AdverseEvent, Observation, SessionRecord

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 10, 14, 0, tzinfo=CLINIC)  # two days after the session of the 8th
LIST = "/admin/rems-forms/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def record(clock):
    return charted_session()


def signed_in(role: str, **fields) -> tuple[Client, object]:
    client = Client()
    user = staff_with_role(role, **fields)
    staff_sign_in(client, user)
    return client, user


def urls(record) -> dict[str, tuple[str, str]]:
    return {
        "list": ("get", LIST),
        "list csv": ("get", f"{LIST}csv/"),
        "print": ("get", f"{LIST}{record.pk}/"),
        "csv": ("get", f"{LIST}{record.pk}/csv/"),
        "mark submitted": ("post", f"{LIST}{record.pk}/submitted/"),
    }


ALLOWED = {
    "Front desk": {},
    "Clinician": {"list": 200, "list csv": 200, "print": 200, "csv": 200},
    "Manager": {"list": 200, "list csv": 200, "print": 200, "csv": 200, "mark submitted": 302},
}


@pytest.mark.parametrize("role", ["Front desk", "Clinician", "Manager"])
@pytest.mark.parametrize("page", ["list", "list csv", "print", "csv", "mark submitted"])
def test_who_may_do_what(record, role, page):
    client, _user = signed_in(role)
    method, url = urls(record)[page]
    response = getattr(client, method)(url)
    assert response.status_code == ALLOWED[role].get(page, 403)
    submitted = SessionRecord.objects.get(pk=record.pk).rems_submitted_at is not None
    assert submitted == (role == "Manager" and page == "mark submitted")


def test_without_a_role_or_signed_out(record):
    client = Client()
    assert client.get(LIST)["Location"].startswith("/admin/login/")
    staff_sign_in(client, StaffUserFactory())
    assert client.get(LIST).status_code == 403


@pytest.mark.parametrize(("role", "linked"), [("Front desk", False), ("Clinician", True), ("Manager", True)])
def test_the_admin_home_links_to_the_forms(record, role, linked):
    client, _user = signed_in(role)
    assert (f'href="{LIST}"' in client.get("/admin/").content.decode()) == linked


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_csv_of_a_charted_session_holds_every_field_of_the_monitoring_form(record, settings):
    settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbor Health Clinic", "(555) 010-0199"
    settings.CLINIC_ADDRESS = "100 Example Street, Suite 200, Springfield, NY 10001"
    client, _user = signed_in("Clinician")
    response = client.get(f"{LIST}{record.pk}/csv/")
    assert response["Content-Disposition"] == f'attachment; filename="rems-monitoring-form-{record.pk}.csv"'
    [row] = read_csv(response)
    assert row == {
        "Session chart": str(record.pk),
        "Patient first name": "Mary Ann",
        "Patient last name": "Jones",
        "Birthdate": "1980-04-02",
        "Benzodiazepines": "No",
        "Non-benzodiazepine sedative hypnotics": "No",
        "Psychostimulants": "Yes",
        "MAOIs": "No",
        "Provider first name": "Ana",
        "Provider last name": "Diaz",
        "Provider telephone": "(555) 010-0199",
        "Provider e-mail": "ana1@clinic.example.org",
        "Healthcare setting name": "Harbor Health Clinic",
        "Healthcare setting address": "100 Example Street, Suite 200, Springfield, NY 10001",
        "Treatment date": "2026-12-08",
        "Dose administered": "84 mg",
        "Other dose (mg)": "",
        "Lot number": "LOT-84A",
        "Total time (minutes)": "125",
        "Ready to leave without the 2-hour rule (minutes)": "95",
        "Vital signs in range before administration": "Yes",
        "Vital signs in range before completion": "Yes",
        "BP before administration, systolic": "128",
        "BP before administration, diastolic": "82",
        "BP 40 minutes after, systolic": "146",
        "BP 40 minutes after, diastolic": "92",
        "BP before completion, systolic": "130",
        "BP before completion, diastolic": "84",
        "Sedation": "Yes",
        "Dissociation": "Yes",
        "Respiratory depression": "No",
        "Due by": "2026-12-15",
        "Submitted": "",
        "Submitted by": "",
    }
    text = response.content.decode()
    assert record.appointment.token not in text and record.appointment.patient.booking_token not in text
    entry = LogEntry.objects.get_for_object(record).get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data == {"shown": "REMS monitoring form (CSV)"}


def test_a_submitted_form_says_when_and_by_whom_in_the_csv(record, clock):
    client, manager = signed_in("Manager", first_name="Lee", last_name="Park")
    rems.rems_form_mark_submitted(record=record, by=manager)
    [row] = read_csv(client.get(f"{LIST}{record.pk}/csv/"))
    assert (row["Submitted"], row["Submitted by"]) == ("2026-12-10T14:00-05:00", "Lee Park")


def test_a_name_a_spreadsheet_would_run_is_written_as_text(record):
    Patient.objects.filter(pk=record.appointment.patient_id).update(full_name="Ann =HYPERLINK(1)")
    client, _user = signed_in("Manager")
    [row] = read_csv(client.get(f"{LIST}{record.pk}/csv/"))
    assert row["Patient last name"] == "'=HYPERLINK(1)"


def deadline_cell(html: str, chart: int) -> str:
    start = html.index(f"Chart #{chart}<br>")
    return html[start : html.index("</tr>", start)]


def test_the_list_shows_each_forms_deadline_the_overdue_first_and_highlighted(clock):
    due = charted_session(n=1)  # December 8: due on the 15th
    overdue = charted_session(n=2, day=1)  # December 1: due on the 8th
    today = charted_session(n=3, day=3)  # December 3: due today
    submitted = charted_session(n=4, day=2)
    client, manager = signed_in("Manager", first_name="Lee", last_name="Park")
    rems.rems_form_mark_submitted(record=submitted, by=manager)
    html = client.get(LIST).content.decode()
    assert (
        html.index(f"Chart #{overdue.pk}<br>")
        < html.index(f"Chart #{today.pk}<br>")
        < html.index(f"Chart #{due.pk}<br>")
    )
    assert f"Chart #{submitted.pk}<br>" not in html
    row = html[html.rindex("<tr", 0, html.index(f"Chart #{overdue.pk}<br>")) :]
    assert row.startswith('<tr class="rems-overdue">')
    assert "Overdue by 2 days" in deadline_cell(html, overdue.pk)
    assert "Due today" in deadline_cell(html, today.pk)
    assert "5 days left" in deadline_cell(html, due.pk) and "Dec. 15, 2026" in deadline_cell(html, due.pk)
    assert "Mary Ann Jones" in deadline_cell(html, due.pk) and "Ana Diaz" in deadline_cell(html, due.pk)
    assert html.count(">Mark submitted</button>") == 3 and 'name="csrfmiddlewaretoken"' in html
    done = client.get(LIST + "?status=submitted").content.decode()
    assert f"Chart #{submitted.pk}<br>" in done and "Submitted Dec. 10, 2026 by Lee Park" in done
    assert ">Mark submitted</button>" not in done
    for record in (due, overdue, today):
        assert record.appointment.token not in html and record.appointment.patient.booking_token not in html


def test_the_list_names_what_the_chart_leaves_empty(record):
    SessionRecord.objects.filter(pk=record.pk).update(lot_number="")
    client, _user = signed_in("Clinician")
    html = client.get(LIST).content.decode()
    assert "Not in the chart: lot number" in html
    assert ">Mark submitted</button>" not in html  # a clinician sees and prints, a manager submits


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [LIST, f"{LIST}csv/", f"{LIST}?status=submitted"])
def test_the_list_and_its_csv_cost_the_same_queries_for_2_and_12_forms(clock, url):
    client, manager = signed_in("Manager")
    for n in range(1, 3):
        record = charted_session(n=n)
        if "submitted" in url:
            rems.rems_form_mark_submitted(record=record, by=manager)
    client.get(url)
    at_2 = queries_for(client, url)
    for n in range(3, 13):
        record = charted_session(n=n)
        if "submitted" in url:
            rems.rems_form_mark_submitted(record=record, by=manager)
    assert queries_for(client, url) == at_2
    # Every form listed is an access entry, written in one insert.
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__where="list").count() == 2 + 2 + 12


def test_the_list_page_has_a_fixed_budget(record, django_assert_num_queries):
    client, _user = signed_in("Manager")
    client.get(LIST)
    # Sign-in: the session, the user, their device, their permissions (2); the list: its count, the page, its
    # observations and adverse events; the access entries (1 insert); the sessions not signed yet (1);
    # the session's last activity (3).
    with django_assert_num_queries(14):
        client.get(LIST)


def test_sessions_without_a_signed_chart_are_listed_with_their_deadline(clock):
    from booking.models import Appointment

    signed = charted_session(n=1)
    unsigned = charted_session(n=2)
    SessionRecord.objects.filter(pk=unsigned.pk).update(signed_at=None, signed_by=None)
    uncharted = charted_session(n=3)
    visit = uncharted.appointment
    cancelled = charted_session(n=4)
    for chart in (uncharted, cancelled):  # as if never charted
        Observation.objects.filter(record=chart).delete()
        AdverseEvent.objects.filter(record=chart).delete()
        SessionRecord.objects.filter(pk=chart.pk).delete()
    Appointment.objects.filter(pk=cancelled.appointment_id).update(status="cancelled")
    client, _user = signed_in("Manager")
    page = client.get(LIST).content.decode()
    table = page.split('id="rems-unsigned-caption"', 1)[1].split("</table>", 1)[0]
    assert f'href="/admin/schedule/visits/{unsigned.appointment_id}/chart/">Not signed yet: open the chart' in table
    assert f'href="/admin/schedule/visits/{visit.pk}/chart/">No chart yet: open one' in table
    assert f"/visits/{signed.appointment_id}/" not in table and f"/visits/{cancelled.appointment_id}/" not in table
    assert table.count("Dec. 15, 2026") == 2  # the session of the 8th, 7 days on
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(visit.pk)).exists()


def test_the_print_view_shows_every_field_and_prints_without_the_admin_around_it(record):
    client, _user = signed_in("Clinician")
    response = client.get(f"{LIST}{record.pk}/")
    html = response.content.decode()
    assert "css/rems.css" in html
    for shown in [
        "Mary Ann",
        "Jones",
        "04/02/1980",
        "Benzodiazepines",
        "Non-benzodiazepine sedative hypnotics",
        "Psychostimulants",
        "Monoamine oxidase inhibitors (MAOIs)",
        "Ana",
        "Diaz",
        "ana1@clinic.example.org",
        "(555) 010-0199",
        "Harbor Health Clinic",
        "100 Example Street",
        "12/08/2026",
        "84 mg",
        "LOT-84A",
        "125 minutes",
        "95 minutes",
        "128/82 mmHg",
        "146/92 mmHg",
        "130/84 mmHg",
        "Respiratory depression",
        "To submit by 12/15/2026.",
    ]:
        assert shown in html, shown
    assert html.count("<strong>Yes</strong>") == 5  # psychostimulants, both vitals, sedation, dissociation
    assert ">Mark submitted</button>" not in html
    assert record.appointment.token not in html and record.appointment.patient.booking_token not in html
    entry = LogEntry.objects.get_for_object(record).get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data == {"shown": "REMS monitoring form"}


def test_mark_submitted_is_a_post_with_csrf_and_goes_back(record):
    client = Client(enforce_csrf_checks=True)
    manager = staff_with_role("Manager")
    staff_sign_in(client, manager)
    url = f"{LIST}{record.pk}/submitted/"
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    page = client.get(f"{LIST}{record.pk}/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(url, {"csrfmiddlewaretoken": token, "next": f"{LIST}{record.pk}/"}, follow=True)
    assert response.redirect_chain[0][0] == f"{LIST}{record.pk}/"
    [message] = [str(m) for m in response.context["messages"]]
    assert message == (
        f"Session chart #{record.pk}: its REMS monitoring form is marked submitted (Thu Dec 10 2026, 02:00 PM EST)."
    )
    stored = SessionRecord.objects.get(pk=record.pk)
    assert (stored.rems_submitted_by, stored.rems_submitted_at) == (manager, NOW)


def test_mark_submitted_of_an_unsigned_chart_is_a_warning(clock):
    unsigned = charted_session(signed=False)
    client, _user = signed_in("Manager")
    response = client.post(f"{LIST}{unsigned.pk}/submitted/", {"next": "https://evil.example.org/"}, follow=True)
    assert response.redirect_chain[0][0] == LIST  # `next` elsewhere is ignored
    [message] = response.context["messages"]
    assert message.level_tag == "warning" and "not signed yet" in message.message
    assert SessionRecord.objects.get(pk=unsigned.pk).rems_submitted_at is None


@pytest.mark.parametrize(
    "url",
    [
        f"{LIST}?status=%00",
        f"{LIST}?status=overdue",
        f"{LIST}?page=%00",
        f"{LIST}?page=99999999999999999999",
        f"{LIST}?page=-1",
        f"{LIST}csv/?page=abc",
    ],
)
def test_odd_queries_show_the_list(record, url):
    client, _user = signed_in("Manager")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999"])
def test_unknown_forms_are_404(record, pk):
    client, _user = signed_in("Manager")
    for url in (f"{LIST}{pk}/", f"{LIST}{pk}/csv/"):
        assert client.get(url).status_code == 404
    assert client.post(f"{LIST}{pk}/submitted/").status_code == 404


def test_an_unsigned_or_iv_chart_has_no_form_page(clock):
    client, _user = signed_in("Manager")
    for record in (charted_session(signed=False), charted_session(n=2, slug="iv-infusion")):
        assert client.get(f"{LIST}{record.pk}/").status_code == 404
        assert client.get(f"{LIST}{record.pk}/csv/").status_code == 404
