"""The session chart's services: opening a chart (and the check-in with it), the values each part
accepts, every hard stop of a discharge and its written override, the signature's lock, addenda."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Appointment
from tests.booking.test_schedule import visit
from tests.factories import ClinicianFactory, staff_with_role
from treatment import rules, services
from treatment.models import Addendum, AdverseEvent, DischargeOverride, Observation, Route, SessionRecord
from treatment.services import ChartError, ChartIncomplete, ChartLocked, DischargeRefused

pytestmark = pytest.mark.django_db

CLINIC = ZoneInfo("America/New_York")


def tuesday(hour: int, minute: int = 0) -> datetime:
    """Tuesday December 8, 2026, clinic wall clock: the day of the sessions."""
    return datetime(2026, 12, 8, hour, minute, tzinfo=CLINIC)


DOSED = tuesday(9, 10)


def after(minutes: float) -> datetime:
    return DOSED + timedelta(minutes=minutes)


@pytest.fixture
def clock():
    with time_machine.travel(tuesday(8, 50), tick=False) as traveller:
        yield traveller


@pytest.fixture
def nurse(db):
    return staff_with_role("Clinician", first_name="Robin", last_name="Park")


@pytest.fixture
def session_visit(clock):
    chen = ClinicianFactory(name="Dr. Chen", offers=["esketamine-nasal", "iv-infusion"])

    def make(slug="esketamine-nasal", **fields):
        booked = visit(chen, tuesday(9), slug=slug, **fields)
        booked.patient.rems_enrolled_on = date(2026, 11, 2)
        booked.patient.save(update_fields=["rems_enrolled_on"])
        return booked

    return make


@pytest.fixture
def chart(session_visit, nurse):
    return services.session_start(appointment=session_visit(), by=nurse)


def reading(record, by, minutes: float, *, bp=(124, 78), heart_rate=70, spo2=98, sedation=5, **extra):
    systolic, diastolic = bp if bp else (None, None)
    return services.observation_add(
        record=record,
        by=by,
        at=after(minutes),
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        sedation=sedation,
        **extra,
    )


def charted(record, by, clock, *, ride=True):
    """A session charted as it should be up to its discharge: checklist, 56 mg at 9:10, readings
    before, at 40 and at 115 minutes; the clock left at 125 minutes."""
    services.checklist_update(
        record=record,
        by=by,
        fasted_since=tuesday(6),
        ride_driver_name="Sam Rivera" if ride else "",
        ride_driver_phone="(555) 010-0199" if ride else "",
        takes_benzodiazepines=False,
        takes_sedative_hypnotics=False,
        takes_psychostimulants=True,
        takes_maois=False,
    )
    services.administration_update(
        record=record,
        by=by,
        weight_kg=Decimal("70.0"),
        dose_mg=Decimal("56"),
        route=Route.INTRANASAL,
        lot_number="LOT-4411",
        first_administration_at=DOSED,
        now=DOSED,
    )
    clock.move_to(after(125))
    reading(record, by, -5)
    reading(record, by, 40)
    reading(record, by, 115)
    return record


def discharge(record, by, **kwargs):
    kwargs.setdefault("discharged_to", "Sam Rivera, her partner")
    return services.session_discharge(record=record, by=by, **kwargs)


# --- Opening the chart --------------------------------------------------------------------------


def test_opening_the_chart_checks_the_patient_in_and_a_second_open_returns_the_same_chart(session_visit, nurse, clock):
    booked = session_visit()
    record = services.session_start(appointment=booked, by=nurse)
    assert record.started_by == nurse and record.started_at == tuesday(8, 50)
    booked.refresh_from_db()
    assert booked.checked_in_at == tuesday(8, 50)
    clock.move_to(tuesday(9, 5))
    assert services.session_start(appointment=booked, by=nurse).pk == record.pk
    assert SessionRecord.objects.count() == 1
    booked.refresh_from_db()
    assert booked.checked_in_at == tuesday(8, 50)  # the first check-in stays


def test_a_patient_checked_in_earlier_keeps_that_time(session_visit, nurse):
    booked = session_visit(checked_in_at=tuesday(8, 30))
    services.session_start(appointment=booked, by=nurse)
    booked.refresh_from_db()
    assert booked.checked_in_at == tuesday(8, 30)


def test_no_chart_for_a_visit_that_is_not_a_monitored_session(session_visit, nurse):
    chen = ClinicianFactory(name="Dr. Diaz", offers=["consultation"])
    consultation = visit(chen, tuesday(11), slug="consultation")
    with pytest.raises(ChartError, match="not a monitored treatment session"):
        services.session_start(appointment=consultation, by=nurse)
    assert not SessionRecord.objects.exists()


@pytest.mark.parametrize("status", [Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW])
def test_no_chart_for_a_visit_not_booked(session_visit, nurse, status):
    booked = session_visit(status=status)
    with pytest.raises(ChartError, match="so no chart can be opened"):
        services.session_start(appointment=booked, by=nurse)
    assert not SessionRecord.objects.exists()


def test_the_check_in_rules_apply_no_chart_on_another_day(session_visit, nurse, clock):
    booked = session_visit()
    clock.move_to(tuesday(8) - timedelta(days=1))
    with pytest.raises(ChartError, match="checked in on the day of their visit"):
        services.session_start(appointment=booked, by=nurse)
    assert not SessionRecord.objects.exists()


def test_no_chart_for_an_esketamine_patient_whose_rems_enrollment_is_not_recorded(session_visit, nurse):
    booked = session_visit()
    booked.patient.rems_enrolled_on = None
    booked.patient.save(update_fields=["rems_enrolled_on"])
    with pytest.raises(ChartError, match="REMS enrollment is not recorded"):
        services.session_start(appointment=booked, by=nurse)
    assert not SessionRecord.objects.exists()
    booked.refresh_from_db()
    assert booked.checked_in_at is None


def test_opening_is_in_the_audit_trail_as_the_clinician(chart, nurse):
    entry = LogEntry.objects.get_for_object(chart).get(action=LogEntry.Action.CREATE)
    assert entry.actor == nurse


# --- The checklist ------------------------------------------------------------------------------


def checklist(record, by, **values):
    fields = {"fasted_since": tuesday(6), "ride_driver_name": "Sam Rivera", "ride_driver_phone": "(555) 010-0199"}
    return services.checklist_update(record=record, by=by, **{**fields, **values})


def test_the_medicines_review_is_dated_once_all_four_are_answered(chart, nurse, clock):
    checklist(chart, nurse, takes_benzodiazepines=True, takes_sedative_hypnotics=False)
    assert chart.medicines_reviewed_at is None
    answers = {"takes_benzodiazepines": True, "takes_sedative_hypnotics": False, "takes_psychostimulants": False}
    checklist(chart, nurse, **answers, takes_maois=False)
    assert chart.medicines_reviewed_at == tuesday(8, 50)
    clock.move_to(tuesday(9))
    checklist(chart, nurse, **answers, takes_maois=False, medicines_note="sertraline 100 mg")
    assert chart.medicines_reviewed_at == tuesday(8, 50) and chart.medicines_note == "sertraline 100 mg"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"ride_driver_phone": ""}, "ride_driver_phone", "phone number as well"),
        ({"ride_driver_name": ""}, "ride_driver_name", "name as well"),
        ({"ride_driver_phone": "call me"}, "ride_driver_phone", "10 to 15 digits"),
        ({"ride_driver_phone": "١٢٣٤٥٦٧٨"}, "ride_driver_phone", "10 to 15 digits"),  # Arabic-Indic digits
        ({"ride_driver_name": "Sam\x00"}, "ride_driver_name", "control characters"),
        ({"ride_alternative": "x" * 501}, "ride_alternative", "500 characters"),
        ({"fasted_since": tuesday(10)}, "fasted_since", "in the future"),
        ({"fasted_since": tuesday(6) - timedelta(days=3)}, "fasted_since", "before the day of the visit"),
        ({"fasted_since": datetime(1, 1, 1, tzinfo=CLINIC)}, "fasted_since", "before the day of the visit"),
    ],
)
def test_the_checklist_refuses_what_cannot_be_right_and_saves_nothing(chart, nurse, values, field, message):
    with pytest.raises(ValidationError) as refused:
        checklist(chart, nurse, **values)
    assert message in " ".join(refused.value.message_dict[field])
    chart.refresh_from_db()
    assert chart.ride_driver_name == "" and chart.fasted_since is None


def test_a_documented_alternative_stands_for_a_driver(chart, nurse):
    checklist(chart, nurse, ride_driver_name="", ride_driver_phone="", ride_alternative="Stays overnight next door")
    assert chart.ride_arranged


# --- Administration -----------------------------------------------------------------------------


def administration(record, by, **values):
    fields = {
        "weight_kg": None,
        "dose_mg": Decimal(56),
        "route": Route.INTRANASAL,
        "lot_number": "LOT-1",
        "first_administration_at": tuesday(8, 45),
    }
    return services.administration_update(record=record, by=by, **{**fields, **values})


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"dose_mg": Decimal(0)}, "dose_mg"),
        ({"dose_mg": Decimal("1000.1")}, "dose_mg"),
        ({"dose_mg": Decimal("56.25")}, "dose_mg"),
        ({"weight_kg": Decimal(10)}, "weight_kg"),
        ({"weight_kg": Decimal("1E+20")}, "weight_kg"),
        ({"route": "oral"}, "route"),
        ({"lot_number": "L" * 41}, "lot_number"),
        ({"first_administration_at": tuesday(9, 30)}, "first_administration_at"),
        ({"first_administration_at": tuesday(0) - timedelta(minutes=1)}, "first_administration_at"),
    ],
)
def test_administration_refuses_implausible_values(chart, nurse, values, field):
    with pytest.raises(ValidationError) as refused:
        administration(chart, nurse, **values)
    assert field in refused.value.message_dict
    chart.refresh_from_db()
    assert chart.dose_mg is None


def test_a_time_a_few_minutes_ahead_is_a_tablets_clock_and_accepted(chart, nurse):
    administration(chart, nurse, first_administration_at=tuesday(8, 54))
    assert chart.first_administration_at == tuesday(8, 54)


def test_an_infusion_needs_the_weight_and_shows_mg_per_kg(session_visit, nurse):
    record = services.session_start(appointment=session_visit("iv-infusion"), by=nurse)
    with pytest.raises(ValidationError) as refused:
        administration(record, nurse, dose_mg=Decimal(35), route=Route.INTRAVENOUS)
    assert "mg/kg" in refused.value.message_dict["weight_kg"][0]
    administration(record, nurse, weight_kg=Decimal("70.0"), dose_mg=Decimal(35), route=Route.INTRAVENOUS)
    assert services.dose_per_kg(record) == Decimal("0.50")


# --- Observations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"bp": (120, 130)}, "systolic", "higher than the diastolic"),
        ({"bp": (120, 120)}, "systolic", "higher than the diastolic"),
        ({"bp": (300, 80)}, "systolic", "from 50 to 260"),
        ({"bp": (120, 10)}, "diastolic", "from 20 to 160"),
        ({"bp": None, "systolic": 120, "diastolic": None}, "diastolic", "two numbers"),
        ({"bp": None, "systolic": None, "diastolic": 80}, "systolic", "two numbers"),
        ({"spo2": 101}, "spo2", "from 0 to 100"),
        ({"heart_rate": 400}, "heart_rate", "from 20 to 250"),
        ({"sedation": 6}, "sedation", "MOAA/S score from 0 to 5"),
        ({"dissociation": 9}, "dissociation", "dissociation level"),
        ({"bp": None, "heart_rate": None, "spo2": None, "sedation": None}, "systolic", "at least one reading"),
    ],
)
def test_a_reading_that_cannot_be_right_is_refused_and_not_saved(chart, nurse, values, field, message):
    values = dict(values)
    bp = values.pop("bp", (120, 80))
    fields = {"heart_rate": 70, "spo2": 98, "sedation": 5, "dissociation": None}
    if bp:
        fields.update(systolic=bp[0], diastolic=bp[1])
    fields.update(values)
    fields.setdefault("systolic", None)
    fields.setdefault("diastolic", None)
    with pytest.raises(ValidationError) as refused:
        services.observation_add(record=chart, by=nurse, at=tuesday(8, 45), **fields)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    ("at", "message"),
    [(tuesday(9, 0), "in the future"), (tuesday(0) - timedelta(seconds=1), "before the day of the visit")],
)
def test_a_reading_at_an_impossible_time_is_refused(chart, nurse, at, message):
    with pytest.raises(ValidationError, match=message):
        services.observation_add(
            record=chart, by=nurse, at=at, systolic=120, diastolic=80, heart_rate=70, spo2=98, sedation=5
        )


def test_an_alarming_but_plausible_reading_is_charted_as_it_is(chart, nurse):
    seen = services.observation_add(
        record=chart, by=nurse, at=tuesday(8, 45), systolic=190, diastolic=115, heart_rate=130, spo2=86, sedation=2
    )
    assert (seen.systolic, seen.spo2, seen.recorded_by, seen.addendum) == (190, 86, nurse, False)


def test_an_adverse_event_needs_what_was_done(chart, nurse):
    with pytest.raises(ValidationError) as refused:
        services.adverse_event_add(
            record=chart, by=nurse, at=tuesday(8, 45), kind="nausea", severity="mild", action="  "
        )
    assert "action" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.adverse_event_add(record=chart, by=nurse, at=tuesday(8, 45), kind="x", severity="fatal", action="a")
    assert {"kind", "severity"} <= refused.value.message_dict.keys()
    event = services.adverse_event_add(
        record=chart, by=nurse, at=tuesday(8, 45), kind="nausea", severity="mild", action="Ondansetron 4 mg"
    )
    assert event.recorded_by == nurse and not event.addendum


# --- Every hard stop ----------------------------------------------------------------------------


def test_a_session_charted_as_it_should_be_is_discharged_at_125_minutes(chart, nurse, clock):
    charted(chart, nurse, clock)
    discharge(chart, nurse)
    assert chart.discharged_at == after(125) and chart.discharged_by == nurse
    assert chart.discharged_to == "Sam Rivera, her partner"
    assert not DischargeOverride.objects.exists()


def refusal(record, by, **kwargs) -> list[str]:
    with pytest.raises(DischargeRefused) as refused:
        discharge(record, by, **kwargs)
    record.refresh_from_db()
    assert record.discharged_at is None
    return [stop.code for stop in refused.value.reasons]


def test_refused_at_70_minutes(chart, nurse, clock):
    charted(chart, nurse, clock)
    Observation.objects.filter(at__gt=after(70)).delete()  # charted as far as 70 minutes
    clock.move_to(after(70))
    assert refusal(chart, nurse, at=after(70)) == [rules.TOO_SOON, rules.NO_BP_BEFORE_DISCHARGE]


def test_refused_without_a_first_administration_time(chart, nurse, clock):
    charted(chart, nurse, clock)
    administration(chart, nurse, first_administration_at=None)
    assert refusal(chart, nurse) == [rules.NOT_STARTED]


def test_refused_without_the_blood_pressure_about_40_minutes_in(chart, nurse, clock):
    charted(chart, nurse, clock)
    Observation.objects.filter(at=after(40)).delete()
    assert refusal(chart, nurse) == [rules.NO_BP_RECHECK]


def test_refused_without_a_blood_pressure_before_discharge(chart, nurse, clock):
    charted(chart, nurse, clock)
    Observation.objects.filter(at=after(115)).update(systolic=None, diastolic=None)
    assert refusal(chart, nurse) == [rules.NO_BP_BEFORE_DISCHARGE]


def test_refused_with_the_last_reading_outside_the_limits(chart, nurse, clock):
    charted(chart, nurse, clock)
    reading(chart, nurse, 120, bp=(172, 96))
    assert refusal(chart, nurse) == [rules.OUT_OF_LIMITS]


def test_refused_while_not_fully_alert(chart, nurse, clock):
    charted(chart, nurse, clock)
    reading(chart, nurse, 120, sedation=4)
    assert refusal(chart, nurse) == [rules.NOT_ALERT]


def test_refused_without_a_ride_home_or_an_alternative(chart, nurse, clock):
    charted(chart, nurse, clock, ride=False)
    assert refusal(chart, nurse) == [rules.NO_RIDE]


def test_the_refusal_carries_each_reason_in_words(chart, nurse, clock):
    charted(chart, nurse, clock, ride=False)
    Observation.objects.filter(at__gt=after(70)).delete()
    clock.move_to(after(70))
    with pytest.raises(DischargeRefused) as refused:
        discharge(chart, nurse, at=after(70))
    assert "Monitored 70 minutes" in str(refused.value)
    assert all(stop.text and stop.source for stop in refused.value.reasons)


# --- Overrides ----------------------------------------------------------------------------------


def test_a_written_reason_overrides_each_stop_and_records_it_with_its_author(chart, nurse, clock):
    charted(chart, nurse, clock)
    reading(chart, nurse, 120, sedation=4)
    reason = "MOAA/S 4 from fatigue; walks steadily; husband present; discussed with Dr. Chen."
    discharge(chart, nurse, override_reason=reason)
    assert chart.discharged_at == after(125)
    (override,) = DischargeOverride.objects.all()
    assert (override.stop, override.reason, override.by, override.at) == (rules.NOT_ALERT, reason, nurse, after(125))
    assert override.stop_text.startswith("Sedation is not back to fully alert")
    assert LogEntry.objects.get_for_object(override).get(action=LogEntry.Action.CREATE).actor == nurse


def test_one_reason_overrides_several_stops_one_row_each(chart, nurse, clock):
    charted(chart, nurse, clock, ride=False)
    Observation.objects.filter(at__gt=after(100)).delete()
    clock.move_to(after(100))
    discharge(chart, nurse, at=after(100), override_reason="Taxi ordered by the clinic; observed 100 min, stable.")
    assert sorted(DischargeOverride.objects.values_list("stop", flat=True)) == sorted(
        [rules.TOO_SOON, rules.NO_BP_BEFORE_DISCHARGE, rules.NO_RIDE]
    )


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_blank_reason_is_no_override(chart, nurse, clock, reason):
    charted(chart, nurse, clock, ride=False)
    assert refusal(chart, nurse, override_reason=reason) == [rules.NO_RIDE]
    assert not DischargeOverride.objects.exists()


def test_an_override_reason_too_long_or_with_nul_is_refused_kindly(chart, nurse, clock):
    charted(chart, nurse, clock, ride=False)
    for reason in ("x" * 2001, "fine\x00"):
        with pytest.raises(ValidationError) as refused:
            discharge(chart, nurse, override_reason=reason)
        assert "override_reason" in refused.value.message_dict
    assert not DischargeOverride.objects.exists()


def test_only_a_clinician_allowed_to_sign_discharges_or_overrides(chart, nurse, clock):
    charted(chart, nurse, clock)
    desk = staff_with_role("Front desk")
    with pytest.raises(PermissionDenied):
        discharge(chart, desk, override_reason="I say so")
    chart.refresh_from_db()
    assert chart.discharged_at is None


def test_a_discharge_needs_to_whom_and_happens_once(chart, nurse, clock):
    charted(chart, nurse, clock)
    with pytest.raises(ValidationError) as refused:
        discharge(chart, nurse, discharged_to=" ")
    assert "discharged_to" in refused.value.message_dict
    discharge(chart, nurse)
    with pytest.raises(ChartError, match="discharged .* already"):
        discharge(chart, nurse)


def test_a_discharge_time_in_the_future_is_refused(chart, nurse, clock):
    charted(chart, nurse, clock)
    with pytest.raises(ValidationError) as refused:
        discharge(chart, nurse, at=after(160))
    assert "at" in refused.value.message_dict


# --- Signature, lock, addenda -------------------------------------------------------------------


def discharged(chart, nurse, clock):
    charted(chart, nurse, clock)
    discharge(chart, nurse)
    return chart


def test_signing_needs_the_discharge_first(chart, nurse, clock):
    charted(chart, nurse, clock)
    with pytest.raises(ChartError, match="Discharge the patient before signing"):
        services.session_sign(record=chart, by=nurse)


def test_signing_names_what_is_still_empty(chart, nurse, clock):
    charted(chart, nurse, clock)
    discharge(chart, nurse)  # the REMS question not answered
    SessionRecord.objects.filter(pk=chart.pk).update(lot_number="")
    with pytest.raises(ChartIncomplete) as refused:
        services.session_sign(record=chart, by=nurse)
    assert set(refused.value.missing) == {"lot_number", "ready_without_rule_minutes"}
    chart.refresh_from_db()
    assert chart.signed_at is None


def test_signing_locks_the_chart_and_completes_the_visit(chart, nurse, clock):
    discharged(chart, nurse, clock)
    services.session_sign(record=chart, by=nurse, ready_without_rule_minutes=90)
    assert chart.signed_by == nurse and chart.signed_at == after(125) and chart.locked
    assert chart.ready_without_rule_minutes == 90
    assert Appointment.objects.get(pk=chart.appointment_id).status == Appointment.Status.COMPLETED


def test_after_signing_every_change_is_refused(chart, nurse, clock):
    discharged(chart, nurse, clock)
    services.session_sign(record=chart, by=nurse, ready_without_rule_minutes=90)
    before = SessionRecord.objects.filter(pk=chart.pk).values().get()
    changes = [
        lambda: checklist(chart, nurse),
        lambda: administration(chart, nurse, dose_mg=Decimal(84)),
        lambda: reading(chart, nurse, 130),
        lambda: services.adverse_event_add(
            record=chart, by=nurse, at=after(100), kind="nausea", severity="mild", action="none"
        ),
        lambda: discharge(chart, nurse),
        lambda: services.session_sign(record=chart, by=nurse),
    ]
    for change in changes:
        with pytest.raises(ChartLocked, match="add an addendum instead"):
            change()
    assert SessionRecord.objects.filter(pk=chart.pk).values().get() == before
    assert Observation.objects.count() == 3 and not AdverseEvent.objects.exists()


def test_addenda_readings_and_events_after_signing_are_marked_as_addenda(chart, nurse, clock):
    discharged(chart, nurse, clock)
    services.session_sign(record=chart, by=nurse, ready_without_rule_minutes=90)
    clock.move_to(after(200))
    note = services.addendum_add(record=chart, by=nurse, text="  Patient phoned at 3 PM: home safely.  ")
    assert (note.text, note.by, note.at) == ("Patient phoned at 3 PM: home safely.", nurse, after(200))
    late = reading(chart, nurse, 122, addendum=True)
    event = services.adverse_event_add(
        record=chart, by=nurse, at=after(60), kind="nausea", severity="mild", action="Rested", addendum=True
    )
    assert late.addendum and event.addendum
    with pytest.raises(ValidationError):
        services.addendum_add(record=chart, by=nurse, text=" ")
    with pytest.raises(ValidationError):
        services.addendum_add(record=chart, by=nurse, text="x" * 2001)
    assert list(Addendum.objects.values_list("text", flat=True)) == ["Patient phoned at 3 PM: home safely."]


def test_no_addendum_before_signing(chart, nurse, clock):
    with pytest.raises(ChartError, match="not signed yet"):
        services.addendum_add(record=chart, by=nurse, text="A note")


def test_discharge_locks_the_chart_row_while_it_decides(chart, nurse, clock):
    charted(chart, nurse, clock)
    with CaptureQueriesContext(connection) as queries:
        discharge(chart, nurse)
    assert any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)


# --- What the discharge was judged on stands -----------------------------------------------------


def test_a_discharge_cannot_be_timed_ahead_of_the_clock_or_before_the_last_reading(chart, nurse, clock):
    charted(chart, nurse, clock)  # the clock at 125 minutes, the last reading at 115
    with pytest.raises(ValidationError, match="cannot be later than now"):
        discharge(chart, nurse, at=after(128))  # 120 minutes reached "in a few minutes"
    reading(chart, nurse, 121, bp=(182, 108))
    with pytest.raises(ValidationError, match="after this discharge time"):
        discharge(chart, nurse, at=after(120))  # backdated before the bad reading
    assert refusal(chart, nurse) == [rules.OUT_OF_LIMITS]


def test_an_override_reason_is_a_sentence_not_a_dot(chart, nurse, clock):
    charted(chart, nurse, clock, ride=False)
    with pytest.raises(ValidationError, match="at least 10 characters"):
        discharge(chart, nurse, override_reason=".")
    assert not DischargeOverride.objects.exists() and SessionRecord.objects.get(pk=chart.pk).discharged_at is None


def test_after_discharge_the_first_administration_and_the_ride_cannot_change(chart, nurse, clock):
    charted(chart, nurse, clock)
    discharge(chart, nurse)
    with pytest.raises(ValidationError, match="judged on this time"):
        administration(chart, nurse, first_administration_at=DOSED + timedelta(minutes=60))
    with pytest.raises(ValidationError, match="with the ride home charted then"):
        services.checklist_update(
            record=chart,
            by=nurse,
            fasted_since=tuesday(6),
            takes_benzodiazepines=False,
            takes_sedative_hypnotics=False,
            takes_psychostimulants=True,
            takes_maois=False,
        )  # the driver cleared
    record = SessionRecord.objects.get(pk=chart.pk)
    assert record.first_administration_at == DOSED and record.ride_driver_name == "Sam Rivera"
    late = reading(chart, nurse, 118, bp=(190, 110))  # charted after the discharge: an addendum
    assert late.addendum
    services.session_sign(record=chart, by=nurse, ready_without_rule_minutes=90)  # judged on what was charted then
    assert SessionRecord.objects.get(pk=chart.pk).signed_at is not None


def test_a_reading_before_the_dose_does_not_say_the_patient_is_alert_after_it(chart, nurse, clock):
    charted(chart, nurse, clock)
    Observation.objects.filter(at__gt=DOSED).update(sedation=None)  # sedation only charted before dosing
    assert refusal(chart, nurse) == [rules.NOT_ALERT]


def test_an_esketamine_chart_is_not_signed_without_the_blood_pressure_before_the_dose(chart, nurse, clock):
    charted(chart, nurse, clock)
    Observation.objects.filter(at__lt=DOSED).delete()
    discharge(chart, nurse)
    with pytest.raises(ChartIncomplete) as incomplete:
        services.session_sign(record=chart, by=nurse, ready_without_rule_minutes=90)
    assert list(incomplete.value.missing) == ["bp_before_administration"]


@pytest.mark.parametrize(
    ("dose", "route", "field", "message"),
    [
        ("50", Route.INTRANASAL, "dose_mg", "A dose of this treatment is 28, 56, 84 mg"),
        ("56", Route.INTRAMUSCULAR, "route", "This treatment is given intranasal"),
    ],
)
def test_an_esketamine_dose_is_a_whole_number_of_devices_given_in_the_nose(chart, nurse, dose, route, field, message):
    with pytest.raises(ValidationError) as refused:
        administration(chart, nurse, dose_mg=Decimal(dose), route=route)
    assert message in refused.value.message_dict[field][0]
    assert SessionRecord.objects.get(pk=chart.pk).dose_mg is None


# --- A charted visit stays as charted -----------------------------------------------------------


def test_a_charted_visit_is_neither_rewritten_moved_nor_cancelled_by_staff(chart, nurse):
    from booking import services as booking
    from booking.models import Patient

    visit = Appointment.objects.get(pk=chart.appointment_id)
    visit.patient = Patient.objects.create(full_name="Someone Else", email="else@example.org", phone="5550100111")
    with pytest.raises(booking.VisitActionRefused, match="has a session chart"):
        booking.appointment_staff_save(appointment=visit, changed=frozenset({"patient"}))
    with pytest.raises(booking.VisitActionRefused, match="has a session chart"):
        booking.appointment_staff_move(
            appointment=visit,
            clinician_id=visit.clinician_id,
            start=tuesday(14),
            by=nurse,
            outside_hours_confirmed=True,
        )
    with pytest.raises(booking.VisitActionRefused, match="has a session chart"):
        booking.appointment_cancel(appointment=visit, reason="Wrong patient", by_staff=True)
    kept = Appointment.objects.get(pk=visit.pk)
    assert (kept.patient_id, kept.start, kept.status) == (chart.appointment.patient_id, tuesday(9), "confirmed")
    visit.refresh_from_db()
    visit.ride_confirmed_at = tuesday(8)  # what is not charted still changes
    booking.appointment_staff_save(appointment=visit, changed=frozenset({"ride_confirmed_at"}))
