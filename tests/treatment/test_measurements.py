"""Scores over time on the patient's record: who sees the trend (never the front desk), a score
a clinician enters (measurement_add and its form), the audit of both, and the page's query budget."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.test import Client

from booking.models import Appointment, AppointmentType, Patient
from booking.services import visit_times
from screening.models import Outcome, Screening
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from treatment import measurements
from treatment.measurements import measurement_add
from treatment.models import Measurement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CLINIC = ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 12, 7, 15, 0, tzinfo=CLINIC)
FRONT, CLIN, MAN = "Front desk", "Clinician", "Manager"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def patient():
    return Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")


def screened_visit(patient, *, phq9=17, gad7=12, days_ago=30) -> Appointment:
    screening = Screening.objects.create(
        email=patient.email,
        outcome=Outcome.ELIGIBLE,
        submitted_at=NOW - datetime.timedelta(days=days_ago),
        phq9_total=phq9,
        phq9_band="moderately severe",
        gad7_total=gad7,
        gad7_band="moderate",
    )
    kind = AppointmentType.objects.get(slug="consultation")
    start = NOW - datetime.timedelta(days=days_ago - 1)
    end, held_from, held_until = visit_times(kind, start)
    return Appointment.objects.create(
        patient=patient,
        clinician=ClinicianFactory(),
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=held_from,
        blocked_end=held_until,
        screening=screening,
        status=Appointment.Status.COMPLETED,
    )


def signed_in(role: str):
    user = staff_with_role(role)
    client = Client()
    staff_sign_in(client, user)
    return client, user


def record(patient) -> str:
    return f"/admin/booking/patient/{patient.pk}/record/"


def scores_url(patient) -> str:
    return f"/admin/booking/patient/{patient.pk}/record/scores/"


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def form(instrument="phq9", score="9", taken_on="2026-12-01") -> dict:
    return {"score-instrument": instrument, "score-score": score, "score-taken_on": taken_on}


# --- The service ---------------------------------------------------------------------------------


def test_a_clinicians_score_is_a_point_of_the_trend_entered_by_them(patient):
    user = staff_with_role(CLIN)
    taken = NOW - datetime.timedelta(days=2)
    added = measurement_add(patient=patient, instrument="gad7", score=21, taken_at=taken, by=user)
    assert (added.source, added.entered_by, added.taken_at, added.answers) == ("clinician", user, taken, [])
    [entry] = LogEntry.objects.get_for_object(added)
    assert entry.action == LogEntry.Action.CREATE and entry.actor == user
    [point] = measurements.patient_trend(patient)
    assert (point.point.instrument, point.point.score, point.baseline) == ("gad7", 21, True)


@pytest.mark.parametrize(
    ("instrument", "score", "taken_at", "field"),
    [
        ("gad7", 22, NOW, "score"),
        ("phq9", 28, NOW, "score"),
        ("phq9", 5, NOW + datetime.timedelta(minutes=1), "taken_at"),
        ("pcl5", 5, NOW, "instrument"),
    ],
)
def test_the_service_refuses_what_cannot_be_a_score(patient, instrument, score, taken_at, field):
    with pytest.raises(ValidationError) as refused:
        measurement_add(
            patient=patient, instrument=instrument, score=score, taken_at=taken_at, by=staff_with_role(CLIN)
        )
    assert field in refused.value.message_dict
    assert not Measurement.objects.exists()


# --- Who sees the trend on the record page --------------------------------------------------------


@pytest.mark.parametrize(("role", "sees", "adds"), [(FRONT, False, False), (CLIN, True, True), (MAN, True, True)])
def test_the_trend_and_its_form_by_role(patient, role, sees, adds):
    screened_visit(patient)
    Measurement.objects.create(patient=patient, instrument="phq9", score=6, taken_at=NOW, source="clinician")
    client, user = signed_in(role)
    html = client.get(record(patient)).content.decode()
    assert ('id="scores-heading"' in html) is sees
    assert ("<svg viewBox" in html) is sees
    assert ("6 of 27" in html) is sees and ("17 of 27" in html) is sees
    assert ('action="' + scores_url(patient) + '"' in html) is adds
    response = client.post(scores_url(patient), form())
    assert response.status_code == (302 if adds else 403)
    assert Measurement.objects.filter(source="clinician", entered_by=user).exists() is adds
    shown = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user).first().additional_data["shown"]
    assert shown == ("patient record with screening scores" if sees else "patient record")


def test_the_front_desk_sees_no_score_even_a_safety_answer(patient):
    Measurement.objects.create(
        patient=patient, instrument="phq9", score=20, taken_at=NOW, source="check_in", answers=[2] * 8 + [3]
    )
    client, _user = signed_in(FRONT)
    html = words(client.get(record(patient)).content.decode())
    assert "20 of 27" not in html and "Item 9" not in html and "Scores over time" not in html


def test_a_clinician_sees_which_check_in_answered_the_safety_question(patient):
    Measurement.objects.create(
        patient=patient, instrument="phq9", score=20, taken_at=NOW, source="check_in", answers=[2] * 8 + [4 - 1]
    )
    client, _user = signed_in(CLIN)
    assert "Item 9 above 0" in words(client.get(record(patient)).content.decode())


def test_the_record_without_scores_says_so(patient):
    client, _user = signed_in(CLIN)
    assert "No score yet" in words(client.get(record(patient)).content.decode())


# --- The clinician's form --------------------------------------------------------------------------


def test_a_score_added_from_the_record_page_shows_in_the_trend(patient):
    screened_visit(patient)
    client, user = signed_in(CLIN)
    response = client.post(scores_url(patient), form("phq9", "8", "2026-12-01"))
    assert response.status_code == 302 and response["Location"] == record(patient) + "#scores"
    added = Measurement.objects.get()
    assert added.taken_at == datetime.datetime(2026, 12, 1, 12, 0, tzinfo=CLINIC)  # noon, clinic time
    html = words(client.get(record(patient)).content.decode())
    assert "Dec 1, 2026 PHQ-9 8 of 27 Entered by a clinician -53 % Response" in html


def test_a_score_taken_today_is_taken_now_not_at_a_noon_to_come(patient):
    client, _user = signed_in(CLIN)
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 0, tzinfo=CLINIC), tick=False):
        assert client.post(scores_url(patient), form(taken_on="2026-12-07")).status_code == 302
    assert Measurement.objects.get().taken_at == datetime.datetime(2026, 12, 7, 9, 0, tzinfo=CLINIC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form(score=""), "Enter the total score."),
        (form(score="28"), "at most 27"),
        (form("gad7", "22"), "A GAD-7 score is at most 21."),
        (form(score="-1"), "A score is 0 or more."),
        (form(score="9" * 40), "at most 27"),
        (form(score="1\x00"), "whole number"),
        (form(score="²"), "whole number"),
        (form(taken_on="2026-12-08"), "cannot be in the future"),
        (form(taken_on="0001-01-01"), "Please check the year"),
        (form(taken_on="12/01/2026"), "YYYY-MM-DD"),
        (form(taken_on="2026-12-01\x00"), "YYYY-MM-DD"),
        (form(instrument="pcl5"), "Select a valid choice"),
        (form(instrument="\x00"), "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_linked_message_and_what_was_typed_stays(patient, data, message):
    client, _user = signed_in(CLIN)
    response = client.post(scores_url(patient), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errornote" role="alert"' in html and message in html
    assert re.search(r'<li><a href="#id_score-(score|taken_on|instrument)">', html)
    assert not Measurement.objects.exists()


def test_unicode_digits_are_read_as_the_number_they_are(patient):
    client, _user = signed_in(CLIN)
    assert client.post(scores_url(patient), form(score="١٢")).status_code == 302  # Arabic-Indic 12
    assert Measurement.objects.get().score == 12


def test_the_form_is_protected_against_forged_posts(patient):
    _client, user = signed_in(CLIN)
    guarded = Client(enforce_csrf_checks=True)
    staff_sign_in(guarded, user)
    assert guarded.post(scores_url(patient), form()).status_code == 403
    assert not Measurement.objects.exists()


def test_a_get_of_the_form_address_goes_back_to_the_record(patient):
    client, _user = signed_in(CLIN)
    response = client.get(scores_url(patient))
    assert response.status_code == 302 and response["Location"] == record(patient) + "#scores"


# --- The page's query budget --------------------------------------------------------------------


def test_the_record_reads_a_fixed_number_of_queries_whatever_the_number_of_scores(patient, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(count: int, offset: int) -> None:
        screened_visit(patient, days_ago=60 + offset)
        Measurement.objects.bulk_create(
            Measurement(
                patient=patient,
                instrument=("phq9", "gad7")[n % 2],
                score=n % 21,
                taken_at=NOW - datetime.timedelta(days=offset + n),
                source="clinician",
            )
            for n in range(count)
        )

    client, _user = signed_in(CLIN)
    grow(2, 0)
    client.get(record(patient))
    with CaptureQueriesContext(connection) as few:
        client.get(record(patient))
    grow(60, 10)
    with django_assert_num_queries(len(few)):
        html = client.get(record(patient)).content.decode()
    assert html.count('class="trend-row"') == 62 + 4
