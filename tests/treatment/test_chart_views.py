"""The chart screens in the admin: who may see and do what (Front desk / Clinician / Manager),
each section's form and its errors, the refusal of a discharge with its reasons linked, the lock
after signing, the access trail, bad input, and a query budget whatever the number of readings."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from booking.models import Appointment
from tests.booking.test_schedule import visit
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from treatment import services
from treatment.models import Observation, Route, SessionRecord

pytestmark = pytest.mark.django_db

CLINIC = ZoneInfo("America/New_York")
ROLES = ["Front desk", "Clinician", "Manager"]


def tuesday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 8, hour, minute, tzinfo=CLINIC)


DOSED = tuesday(9, 10)


@pytest.fixture
def clock():
    with time_machine.travel(tuesday(8, 50), tick=False) as traveller:
        yield traveller


@pytest.fixture
def session_visit(clock):
    chen = ClinicianFactory(name="Dr. Chen", offers=["esketamine-nasal"])
    booked = visit(chen, tuesday(9), slug="esketamine-nasal", name="Alex Rivera")
    booked.patient.rems_enrolled_on = date(2026, 11, 2)
    booked.patient.save(update_fields=["rems_enrolled_on"])
    return booked


def signed_in(role: str, **fields) -> tuple[Client, object]:
    user = staff_with_role(role, **fields)
    client = Client()
    staff_sign_in(client, user)
    return client, user


@pytest.fixture
def clinician():
    return signed_in("Clinician", first_name="Robin", last_name="Park")


def chart_url(appointment, section: str = "") -> str:
    if section == "open":
        return reverse("admin:treatment_chart_open", args=[appointment.pk])
    if section:
        return reverse("admin:treatment_chart_section", args=[appointment.pk, section])
    return reverse("admin:treatment_chart", args=[appointment.pk])


def opened(appointment, user):
    return services.session_start(appointment=appointment, by=user)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def summary(response) -> str:
    page = response.content.decode()
    found = re.search(r'<div class="errornote error-summary".*?</div>', page, re.S)
    assert found, "no error summary"
    return found.group(0)


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("Front desk", 403), ("Clinician", 200), ("Manager", 200)])
def test_who_sees_a_chart(session_visit, role, status):
    client, user = signed_in(role)
    opened(session_visit, staff_with_role("Clinician"))
    assert client.get(chart_url(session_visit)).status_code == status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "section", ["open", "checklist", "administration", "observation", "adverse", "discharge", "sign", "addendum"]
)
def test_who_may_chart_discharge_and_sign(session_visit, role, section):
    client, _user = signed_in(role)
    if section != "open":
        opened(session_visit, staff_with_role("Clinician"))
    response = client.post(chart_url(session_visit, section), {})
    if role == "Front desk":
        assert response.status_code == 403
    else:  # allowed: a redirect (open) or the page with the form's errors, never a refusal
        assert response.status_code in (200, 302)


def test_the_front_desk_sees_no_chart_link_a_clinician_does(session_visit):
    day = reverse("admin:schedule_day") + "?date=2026-12-08"
    desk, _user = signed_in("Front desk")
    assert chart_url(session_visit) not in desk.get(day).content.decode()
    nurse, _user = signed_in("Clinician")
    page = nurse.get(day).content.decode()
    assert f'href="{chart_url(session_visit)}"' in page and "Chart" in text(page)


def test_no_chart_link_or_page_for_a_consultation(session_visit, clinician):
    client, _user = clinician
    diaz = ClinicianFactory(name="Dr. Diaz")
    consultation = visit(diaz, tuesday(11), slug="consultation", name="Sam Lee")
    page = client.get(reverse("admin:schedule_day") + "?date=2026-12-08").content.decode()
    assert chart_url(consultation) not in page
    assert client.get(chart_url(consultation)).status_code == 404


def test_signed_out_staff_are_sent_to_sign_in(session_visit):
    response = Client().get(chart_url(session_visit))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_form_needs_its_csrf_token(session_visit, clinician):
    _client, user = clinician
    client = Client(enforce_csrf_checks=True)
    staff_sign_in(client, user)
    assert client.post(chart_url(session_visit, "open")).status_code == 403
    assert not SessionRecord.objects.exists()


# --- Opening and the access trail ---------------------------------------------------------------


def test_a_clinician_opens_the_chart_from_the_page_and_the_patient_is_checked_in(session_visit, clinician):
    client, user = clinician
    page = client.get(chart_url(session_visit))
    assert "Open the chart" in text(page.content.decode())
    response = client.post(chart_url(session_visit, "open"))
    assert response.status_code == 302 and response["Location"].endswith("#checklist")
    record = SessionRecord.objects.get(appointment=session_visit)
    assert record.started_by == user
    assert Appointment.objects.get(pk=session_visit.pk).checked_in_at == tuesday(8, 50)


def test_a_cancelled_visit_gets_no_chart(session_visit, clinician):
    client, _user = clinician
    Appointment.objects.filter(pk=session_visit.pk).update(status=Appointment.Status.CANCELLED)
    assert "no chart can be opened" in text(client.get(chart_url(session_visit)).content.decode())
    client.post(chart_url(session_visit, "open"))
    assert not SessionRecord.objects.exists()


def test_each_view_of_a_chart_is_an_audited_access(session_visit, clinician):
    client, user = clinician
    record = opened(session_visit, user)
    client.get(chart_url(session_visit))
    client.get(chart_url(session_visit))
    entries = LogEntry.objects.get_for_object(record).filter(action=LogEntry.Action.ACCESS)
    assert entries.count() == 2
    assert all(e.actor == user and e.additional_data == {"shown": "session chart"} for e in entries)


# --- Sections -----------------------------------------------------------------------------------


def checklist_data(**values):
    data = {
        "checklist-fasted_since": "2026-12-08T06:00",
        "checklist-ride_driver_name": "Sam Rivera",
        "checklist-ride_driver_phone": "(555) 010-0199",
        "checklist-ride_alternative": "",
        "checklist-takes_benzodiazepines": "no",
        "checklist-takes_sedative_hypnotics": "no",
        "checklist-takes_psychostimulants": "yes",
        "checklist-takes_maois": "no",
        "checklist-medicines_note": "",
    }
    return {**data, **values}


def test_the_checklist_is_saved_in_clinic_time(session_visit, clinician):
    client, user = clinician
    record = opened(session_visit, user)
    response = client.post(chart_url(session_visit, "checklist"), checklist_data())
    assert response.status_code == 302 and response["Location"].endswith("#checklist")
    record.refresh_from_db()
    assert record.fasted_since == tuesday(6) and record.takes_psychostimulants is True
    assert record.ride_arranged and record.medicines_reviewed_at == tuesday(8, 50)
    page = client.get(chart_url(session_visit)).content.decode()
    assert 'value="2026-12-08T06:00"' in page  # shown again in clinic time, as typed
    assert re.search(r'<option value="yes" selected>Yes</option>', page)


def test_checklist_errors_are_summarised_linked_and_what_was_typed_is_kept(session_visit, clinician):
    client, user = clinician
    opened(session_visit, user)
    response = client.post(
        chart_url(session_visit, "checklist"),
        checklist_data(**{"checklist-ride_driver_phone": "", "checklist-fasted_since": "yesterday"}),
    )
    assert response.status_code == 200
    found = summary(response)
    assert 'href="#id_checklist-fasted_since"' in found and "No food since: Enter the date and time" in text(found)
    page = response.content.decode()
    assert 'value="yesterday"' in page and 'value="Sam Rivera"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_checklist-fasted_since-error' in page
    # The service's own check, on its field, once the form's parsing passes.
    response = client.post(chart_url(session_visit, "checklist"), checklist_data(**{"checklist-ride_driver_phone": ""}))
    assert 'href="#id_checklist-ride_driver_phone"' in summary(response)
    assert "phone number as well" in text(summary(response))


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T06:00", "x" * 5000])
def test_a_fasting_time_no_clock_can_hold_is_refused_kindly(session_visit, clinician, typed):
    client, user = clinician
    record = opened(session_visit, user)
    response = client.post(chart_url(session_visit, "checklist"), checklist_data(**{"checklist-fasted_since": typed}))
    assert response.status_code == 200
    assert "No food since: Enter the date and time, for example 2026-12-08 06:30." in text(summary(response))
    record.refresh_from_db()
    assert record.ride_driver_name == ""


def test_the_administration_shows_mg_per_kg_for_an_infusion(clock, clinician):
    client, user = clinician
    chen = ClinicianFactory(name="Dr. Chen", offers=["iv-infusion"])
    infusion = visit(chen, tuesday(9), slug="iv-infusion")
    opened(infusion, user)
    data = {
        "administration-weight_kg": "70",
        "administration-dose_mg": "35",
        "administration-route": Route.INTRAVENOUS,
        "administration-lot_number": "K-221",
        "administration-first_administration_at": "08:45",
    }
    assert client.post(chart_url(infusion, "administration"), data).status_code == 302
    page = text(client.get(chart_url(infusion)).content.decode())
    assert "35.0 mg for 70.0 kg: 0.50 mg/kg" in page
    assert "Monitored so far: 5 minutes of at least 60." in page


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("systolic", "١٢٠"),  # Arabic-Indic digits
        ("systolic", "12\x000"),
        ("systolic", "9" * 400),
        ("heart_rate", "1e3"),
        ("spo2", "101"),
        ("at", "25:99"),
        ("at", "\x00"),
    ],
)
def test_bad_readings_are_refused_kindly_never_a_500(session_visit, clinician, field, typed):
    client, user = clinician
    opened(session_visit, user)
    data = {
        "observation-at": "08:45",
        "observation-systolic": "124",
        "observation-diastolic": "78",
        "observation-heart_rate": "70",
        "observation-spo2": "98",
        "observation-sedation": "5",
        "observation-dissociation": "",
    }
    response = client.post(chart_url(session_visit, "observation"), {**data, f"observation-{field}": typed})
    assert response.status_code == 200
    assert f'href="#id_observation-{field}"' in summary(response)
    assert not Observation.objects.exists()


def test_a_reading_with_systolic_below_diastolic_names_the_pair(session_visit, clinician):
    client, user = clinician
    opened(session_visit, user)
    response = client.post(
        chart_url(session_visit, "observation"),
        {"observation-at": "08:45", "observation-systolic": "70", "observation-diastolic": "110"},
    )
    assert "higher than the diastolic" in text(summary(response))
    page = response.content.decode()
    assert 'value="70"' in page and 'value="110"' in page


def test_the_sedation_select_offers_the_moaa_s_labels(session_visit, clinician):
    client, user = clinician
    opened(session_visit, user)
    page = client.get(chart_url(session_visit)).content.decode()
    assert "5 — responds readily to name in a normal tone (alert)" in page
    assert '<label for="id_observation-sedation">Sedation (MOAA/S)' in page


# --- Discharge and signature ----------------------------------------------------------------------


def chart_ready(record, user, clock):
    services.checklist_update(
        record=record,
        by=user,
        fasted_since=tuesday(6),
        ride_driver_name="Sam Rivera",
        ride_driver_phone="(555) 010-0199",
        takes_benzodiazepines=False,
        takes_sedative_hypnotics=False,
        takes_psychostimulants=False,
        takes_maois=False,
    )
    services.administration_update(
        record=record,
        by=user,
        weight_kg=None,
        dose_mg=Decimal(56),
        route=Route.INTRANASAL,
        lot_number="LOT-1",
        first_administration_at=DOSED,
        now=DOSED,
    )
    clock.move_to(DOSED + timedelta(minutes=70))
    for minutes in (-5, 40, 65):
        services.observation_add(
            record=record,
            by=user,
            at=DOSED + timedelta(minutes=minutes),
            systolic=124,
            diastolic=78,
            heart_rate=70,
            spo2=98,
            sedation=5,
        )


def test_a_refused_discharge_shows_each_reason_linked_and_offers_the_override(session_visit, clinician, clock):
    client, user = clinician
    record = opened(session_visit, user)
    chart_ready(record, user, clock)
    response = client.post(
        chart_url(session_visit, "discharge"), {"discharge-at": "10:20", "discharge-discharged_to": "Sam Rivera"}
    )
    assert response.status_code == 200
    found = summary(response)
    assert "The patient cannot be discharged yet:" in text(found)
    assert 'href="#monitored"' in found and "Monitored 70 minutes" in text(found)
    assert 'href="#id_discharge-override_reason"' in found
    assert 'id="id_discharge-override_reason"' in response.content.decode()
    record.refresh_from_db()
    assert record.discharged_at is None


def test_an_override_with_a_reason_discharges_and_is_shown(session_visit, clinician, clock):
    client, user = clinician
    record = opened(session_visit, user)
    chart_ready(record, user, clock)
    reason = "Observed 70 min, fully alert, husband driving; Dr. Chen agreed."
    response = client.post(
        chart_url(session_visit, "discharge"),
        {"discharge-at": "10:20", "discharge-discharged_to": "Sam Rivera", "discharge-override_reason": reason},
    )
    assert response.status_code == 302
    page = text(client.get(chart_url(session_visit)).content.decode())
    assert "Hard stops overridden" in page and reason in page and "Overridden by Robin Park" in page


def test_signing_locks_the_page_leaving_late_readings_and_addenda(session_visit, clinician, clock):
    client, user = clinician
    record = opened(session_visit, user)
    chart_ready(record, user, clock)
    clock.move_to(DOSED + timedelta(minutes=125))
    services.observation_add(
        record=record, by=user, at=DOSED + timedelta(minutes=120), systolic=120, diastolic=76,
        heart_rate=68, spo2=98, sedation=5,
    )  # fmt: skip
    services.session_discharge(record=record, by=user, discharged_to="Sam Rivera")
    response = client.post(chart_url(session_visit, "sign"), {"sign-ready_without_rule_minutes": ""})
    assert "Ready to leave without the 2-hour rule (minutes)" in text(summary(response))
    assert 'href="#id_sign-ready_without_rule_minutes"' in summary(response)
    response = client.post(chart_url(session_visit, "sign"), {"sign-ready_without_rule_minutes": "95"})
    assert response.status_code == 302
    page = client.get(chart_url(session_visit)).content.decode()
    assert "the chart is locked; changes are addenda" in text(page)
    assert f'href="/admin/rems-forms/{record.pk}/"' in page  # its REMS monitoring form, now due
    assert "checklist-fasted_since" not in page and "administration-dose_mg" not in page
    assert "Add a late reading (an addendum)" in text(page) and "addendum-text" in page
    response = client.post(chart_url(session_visit, "addendum"), {"addendum-text": "Phoned: home safely."})
    assert response.status_code == 302
    response = client.post(chart_url(session_visit, "administration"), {"administration-dose_mg": "84"})
    assert "add an addendum instead" in text(summary(response))
    assert SessionRecord.objects.get(pk=record.pk).dose_mg == Decimal(56)


# --- Query budget -------------------------------------------------------------------------------


@pytest.mark.parametrize("readings", [3, 40])
def test_the_chart_page_reads_the_same_number_of_queries_whatever_the_readings(
    session_visit, clinician, clock, django_assert_num_queries, readings
):
    client, user = clinician
    record = opened(session_visit, user)
    clock.move_to(tuesday(11))
    Observation.objects.bulk_create(
        Observation(record=record, at=tuesday(9) + timedelta(minutes=n), systolic=120, diastolic=80, recorded_by=user)
        for n in range(readings)
    )
    services.adverse_event_add(record=record, by=user, at=tuesday(9, 30), kind="nausea", severity="mild", action="Rest")
    client.get(chart_url(session_visit))  # sessions and content types warmed
    # Session, user, device, permissions (2), the visit with its chart, the access entry, the
    # readings, events, overrides and addenda (one each), and the session saved (3, idle logoff).
    with django_assert_num_queries(14):
        assert client.get(chart_url(session_visit)).status_code == 200


# --- The admin's list of charts -------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("Front desk", 403), ("Clinician", 200), ("Manager", 200)])
def test_the_list_of_charts_leads_to_the_chart_screen(session_visit, role, status):
    client, _user = signed_in(role)
    record = opened(session_visit, staff_with_role("Clinician"))
    listing = client.get(reverse("admin:treatment_sessionrecord_changelist"))
    assert listing.status_code == status
    change = client.get(reverse("admin:treatment_sessionrecord_change", args=[record.pk]))
    if status == 200:
        assert chart_url(session_visit) in listing.content.decode()
        assert change.status_code == 302 and change["Location"] == chart_url(session_visit)
    else:
        assert change.status_code == 403
    too_big = client.get(reverse("admin:treatment_sessionrecord_change", args=["9" * 30]))
    assert too_big.status_code == (404 if status == 200 else 403)
