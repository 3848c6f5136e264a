"""The managers' CSV of visits: one row per visit in the clinic days asked for, nothing clinical,
formulas defused, managers only, each export in the audit trail, bad ranges refused kindly."""

import csv
import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from booking.models import Appointment
from tests.booking.conftest import clinic_time
from tests.booking.test_schedule import screening, visit
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in, staff_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

URL = "/admin/schedule/export/"
HEADER = [
    "Visit",
    "Date",
    "Time",
    "Time zone",
    "Clinician",
    "Appointment type",
    "Status",
    "Patient ID",
    "Patient name",
    "Checked in",
    "Cancelled at",
    "Cancellation reason",
]


@pytest.fixture
def manager(client):
    user = staff_with_role("Manager")
    staff_sign_in(client, user)
    client.user = user
    return client


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_has_one_row_per_visit_in_the_clinic_days_asked_for(manager):
    chen = ClinicianFactory(name="Dr. Chen")
    first = visit(chen, clinic_time(8, 9), name="Alex Rivera", checked_in_at=clinic_time(8, 8, 55))
    gone = visit(
        chen,
        clinic_time(9, 10),
        name="Sam Lee",
        status=Appointment.Status.CANCELLED,
        cancelled_at=clinic_time(7, 16, 5),
        cancel_reason="Feeling unwell",
    )
    visit(chen, clinic_time(10, 9), name="Too Late")  # after the range
    visit(chen, datetime.datetime(2026, 12, 8, 4, 30, tzinfo=datetime.UTC), name="Too Early")  # 7 Dec, 11:30 PM

    response = manager.get(URL, {"from": "2026-12-08", "to": "2026-12-09"})

    assert response["Content-Disposition"] == 'attachment; filename="visits-2026-12-08-to-2026-12-09.csv"'
    header, *body = rows(response)
    assert header == HEADER
    assert body == [
        [str(first.pk), "2026-12-08", "09:00", "EST", "Dr. Chen", "Consultation", "Confirmed",
         str(first.patient_id), "Alex Rivera", "2026-12-08 08:55", "", ""],
        [str(gone.pk), "2026-12-09", "10:00", "EST", "Dr. Chen", "Consultation", "Cancelled",
         str(gone.patient_id), "Sam Lee", "", "2026-12-07 16:05", "Feeling unwell"],
    ]  # fmt: skip


def test_clinic_days_follow_the_clinic_clock_across_a_dst_change(manager):
    chen = ClinicianFactory(name="Dr. Chen")
    visit(chen, datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC), name="Summer Time")  # 01:30 EDT
    visit(chen, datetime.datetime(2026, 11, 2, 4, 45, tzinfo=datetime.UTC), name="Winter Time")  # Sun 23:45 EST
    _header, *body = rows(manager.get(URL, {"from": "2026-11-01", "to": "2026-11-01"}))
    assert [(row[1], row[2], row[3], row[8]) for row in body] == [
        ("2026-11-01", "01:30", "EDT", "Summer Time"),
        ("2026-11-01", "23:45", "EST", "Winter Time"),
    ]


def test_no_clinical_data_tokens_or_video_room_leave_in_the_csv(manager):
    answered = screening(
        urgent=True, phq9_total=23, phq9_band="severe", gad7_total=17, flags=["item9"], answers={"q": "my answer"}
    )
    booked = visit(ClinicianFactory(), clinic_time(8, 9), name="Alex Rivera", screening=answered)
    exported = manager.get(URL, {"from": "2026-12-08", "to": "2026-12-08"}).content.decode()
    assert "Alex Rivera" in exported
    for secret in (
        booked.token,
        booked.video_room,
        booked.patient.booking_token,
        answered.token,
        "severe",
        "23",
        "item9",
        "my answer",
        "rgent",
    ):
        assert secret not in exported


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "\tTab", "\rReturn"])
def test_a_cell_a_spreadsheet_would_run_is_made_plain_text(manager, formula):
    visit(ClinicianFactory(), clinic_time(8, 9), name=formula, cancel_reason=formula)
    [_header, row] = rows(manager.get(URL, {"from": "2026-12-08", "to": "2026-12-08"}))
    assert row[8] == "'" + formula and row[11] == "'" + formula


def test_each_export_is_audited_per_visit_with_who_exported(manager):
    chen = ClinicianFactory()
    visits = [visit(chen, clinic_time(8, hour)) for hour in (9, 11)]
    visit(chen, clinic_time(12, 9))  # not exported
    manager.get(URL, {"from": "2026-12-08", "to": "2026-12-08"})
    entries = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, content_type=ContentType.objects.get_for_model(Appointment)
    )
    assert sorted(entry.object_id for entry in entries) == sorted(v.pk for v in visits)
    assert {entry.actor_id for entry in entries} == {manager.user.pk}
    assert {entry.additional_data["shown"] for entry in entries} == {"visits export (CSV)"}


def test_the_form_page_is_labelled_and_writes_no_audit_entry(manager):
    page = manager.get(URL).content.decode()
    assert '<label class="required" for="id_from">From</label>' in page
    assert '<label class="required" for="id_to">To (included)</label>' in page
    assert 'type="date" name="from"' in page and "error-summary" not in page
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-12-09", "to": "2026-12-01"}, "to", "The last day comes before the first: please swap them."),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to", "Please choose at most 366 days"),
        ({"from": "garbage", "to": "2026-12-01"}, "from", "Please enter a date as YYYY-MM-DD"),
        ({"from": "2026-12-01\x00", "to": "2026-12-01"}, "from", "Please enter a date as YYYY-MM-DD"),
        ({"from": "0001-01-01", "to": "2026-12-01"}, "from", "Please enter a date between 2000-01-01 and 2099-12-31."),
        ({"from": "2026-12-01", "to": "9" * 5000}, "to", "Please enter a date as YYYY-MM-DD"),
        ({"from": "2026-12-01", "to": "99999-12-31"}, "to", "Please enter a date as YYYY-MM-DD"),
        ({"from": "2026-12-01"}, "to", "Please enter a date."),
    ],
    ids=["backwards", "too-long", "garbage", "nul", "year-1", "huge", "year-99999", "missing"],
)
def test_a_bad_range_is_refused_kindly_with_a_summary_linking_the_field(manager, query, field, message):
    response = manager.get(URL, query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'id="error-summary"' in page and "<title>Error:" in page
    assert f'<a href="#id_{field}">' in page and message in page
    assert 'aria-invalid="true"' in page.split(f'id="id_{field}"')[1].split(">")[0]
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_a_full_year_is_allowed(manager):
    assert rows(manager.get(URL, {"from": "2024-01-01", "to": "2024-12-31"})) == [HEADER]  # 366 days, a leap year


ROLE_STATUS = [(None, 302), ("no role", 403), ("Front desk", 403), ("Clinician", 403), ("Manager", 200)]


@pytest.mark.parametrize("query", [{}, {"from": "2026-12-08", "to": "2026-12-08"}], ids=["form", "csv"])
@pytest.mark.parametrize(("role", "status"), ROLE_STATUS, ids=[str(role) for role, _s in ROLE_STATUS])
def test_only_managers_export(client, role, status, query):
    visit(ClinicianFactory(), clinic_time(8, 9))
    if role == "no role":
        staff_sign_in(client, StaffUserFactory())
    elif role:
        staff_sign_in(client, staff_with_role(role))
    response = client.get(URL, query)
    assert response.status_code == status
    if status != 200:
        assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_managers_find_the_export_on_the_schedule_and_the_index(manager):
    assert 'href="/admin/schedule/export/"' in manager.get("/admin/schedule/").content.decode()
    assert 'href="/admin/schedule/export/"' in manager.get("/admin/").content.decode()


def test_the_csv_is_not_kept_by_browsers_or_proxies(manager):
    response = manager.get(URL, {"from": "2026-12-08", "to": "2026-12-08"})
    assert "no-store" in response["Cache-Control"]
