"""The SPRAVATO REMS monitoring form of a signed esketamine session, read from its chart: every
field, the choices behind each (which blood pressure is "about 40 minutes", what counts as an
event), its deadline, and marking it submitted. Charts are written with the ORM here (the chart's
services are tested in test_services.py)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry

from booking.models import Patient
from tests.booking.test_schedule import visit as visit_as_booked
from tests.factories import ClinicianFactory, StaffUserFactory, staff_with_role
from treatment import rems, rules
from treatment.models import AdverseEvent, Observation, Route, SessionRecord

CLINIC = ZoneInfo("America/New_York")


def at(hour: int, minute: int = 0, day: int = 8) -> datetime:
    """Clinic wall clock in December 2026 (Tuesday the 8th is the session's day)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=CLINIC)


# (minutes after the first administration at 10:05, systolic, diastolic, heart rate, SpO2, MOAA/S, dissociation)
READINGS = [
    (-5, 128, 82, 72, 98, 5, 0),  # before administration
    (30, 150, 95, 80, 97, 4, 2),
    (40, 146, 92, 78, 96, 4, 1),  # "about 40 minutes"
    (85, 136, 86, 74, 97, 5, 0),
    (115, 130, 84, 70, 98, 5, 0),  # the last before discharge at 125
    (130, 180, 110, 70, 98, 5, 0),  # after the discharge: not on the form
]


def charted_session(
    *,
    n: int = 1,
    readings=READINGS,
    dose: str = "84",
    events=(AdverseEvent.Kind.NAUSEA,),
    signed: bool = True,
    slug: str = "esketamine-nasal",
    day: int = 8,
    signer=None,
) -> SessionRecord:
    """A charted, signed esketamine session of Mary Ann Jones on December `day`: administered at
    10:05, discharged at 12:10 (125 minutes), signed at 12:20 by Dr. Ana Diaz."""
    clinician = ClinicianFactory(name=f"Dr. Ana Diaz {n}", offers=[slug])
    patient = Patient.objects.create(
        full_name=f"  Mary  Ann Jones{n if n > 1 else ''} ",
        email=f"mary{n}@example.org",
        phone="5550100123",
        date_of_birth=date(1980, 4, 2),
        rems_enrolled_on=date(2026, 11, 2),
    )
    visit = visit_as_booked(clinician, at(10, 0, day), slug=slug, patient=patient)
    signer = signer or StaffUserFactory(
        username=f"ana{n}", first_name="Ana", last_name="Diaz", email=f"ana{n}@clinic.example.org"
    )
    first = at(10, 5, day)
    record = SessionRecord.objects.create(
        appointment=visit,
        started_at=at(9, 50, day),
        started_by=signer,
        fasted_since=at(7, 0, day),
        ride_driver_name="John Jones",
        ride_driver_phone="5550100124",
        takes_benzodiazepines=False,
        takes_sedative_hypnotics=False,
        takes_psychostimulants=True,
        takes_maois=False,
        medicines_reviewed_at=at(9, 55, day),
        dose_mg=Decimal(dose),
        route=Route.INTRANASAL,
        lot_number="LOT-84A",
        first_administration_at=first,
        ready_without_rule_minutes=95,
        discharged_at=first + timedelta(minutes=125),
        discharged_by=signer,
        discharged_to="John Jones (husband)",
        signed_at=at(12, 20, day) if signed else None,
        signed_by=signer if signed else None,
    )
    Observation.objects.bulk_create(
        Observation(
            record=record,
            at=first + timedelta(minutes=minutes),
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=heart_rate,
            spo2=spo2,
            sedation=sedation,
            dissociation=dissociation,
            recorded_by=signer,
        )
        for minutes, systolic, diastolic, heart_rate, spo2, sedation, dissociation in readings
    )
    for kind in events:
        AdverseEvent.objects.create(
            record=record,
            at=first + timedelta(minutes=35),
            kind=kind,
            severity="mild",
            action="Watched",
            recorded_by=signer,
        )
    return record


def form_of(record: SessionRecord) -> rems.MonitoringForm:
    return rems.monitoring_form(rems.rems_records().get(pk=record.pk))


@pytest.fixture
def clock():
    with time_machine.travel(at(14, 0), tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
class TestTheForm:
    def test_every_field_of_a_charted_session(self, clock, settings):
        settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbor Health Clinic", "(555) 010-0199"
        settings.CLINIC_ADDRESS = "100 Example Street, Suite 200, Springfield, NY 10001"
        record = charted_session()
        form = form_of(record)
        assert (form.patient_first_name, form.patient_last_name, form.date_of_birth) == (
            "Mary Ann",
            "Jones",
            date(1980, 4, 2),
        )
        assert (form.benzodiazepines, form.sedative_hypnotics, form.psychostimulants, form.maois) == (
            False,
            False,
            True,
            False,
        )
        assert (form.provider_first_name, form.provider_last_name, form.provider_email, form.provider_phone) == (
            "Ana",
            "Diaz",
            "ana1@clinic.example.org",
            "(555) 010-0199",
        )
        assert (form.setting_name, form.setting_address) == (
            "Harbor Health Clinic",
            "100 Example Street, Suite 200, Springfield, NY 10001",
        )
        assert (form.treatment_date, form.dose, form.dose_other_mg, form.lot_number) == (
            date(2026, 12, 8),
            "84 mg",
            None,
            "LOT-84A",
        )
        assert (form.total_minutes, form.ready_without_rule_minutes) == (125, 95)
        assert (form.vitals_in_range_before, form.vitals_in_range_at_end) == (True, True)
        assert (str(form.bp_before), str(form.bp_40_minutes), str(form.bp_at_end)) == ("128/82", "146/92", "130/84")
        assert (form.bp_before.at, form.bp_40_minutes.at, form.bp_at_end.at) == (at(10, 0), at(10, 45), at(12, 0))
        assert (form.sedation, form.dissociation, form.respiratory_depression) == (True, True, False)
        assert (form.due_on, form.days_left, form.status, form.missing) == (date(2026, 12, 15), 7, "due", [])
        assert (form.submitted_at, form.submitted_by) == (None, "")

    @pytest.mark.parametrize(("before", "in_range"), [((140, 90), True), ((141, 88), False), ((138, 91), False)])
    def test_before_administration_the_labels_elevated_baseline_is_the_limit(self, clock, before, in_range):
        # Above 140/90 before dosing is "elevated" for the label, though below the discharge limits.
        readings = [(-5, *before, 72, 98, 5, 0), (40, 146, 92, 80, 98, 5, 0), (115, 130, 84, 74, 98, 5, 0)]
        assert form_of(charted_session(readings=readings)).vitals_in_range_before is in_range

    def test_readings_outside_the_limits_an_spo2_drop_and_another_dose(self, clock):
        readings = [
            (-5, 165, 100, 72, 98, 5, 0),  # high before administration
            (40, 150, 90, 80, 92, 5, 0),  # SpO2 under 94
            (115, 130, 84, 120, 98, 5, 0),  # heart rate 120 at the end
        ]
        form = form_of(charted_session(readings=readings, dose="28", events=()))
        assert (form.vitals_in_range_before, form.vitals_in_range_at_end) == (False, False)
        assert (form.sedation, form.dissociation, form.respiratory_depression) == (False, False, True)
        assert (form.dose, form.dose_other_mg) == ("Other", Decimal(28))

    @pytest.mark.parametrize(
        ("kind", "flags"),
        [
            (AdverseEvent.Kind.SEDATION, (True, False, False)),
            (AdverseEvent.Kind.DISSOCIATION, (False, True, False)),
            (AdverseEvent.Kind.RESPIRATORY, (False, False, True)),
            (AdverseEvent.Kind.NAUSEA, (False, False, False)),
        ],
    )
    def test_an_adverse_event_alone_marks_its_kind(self, clock, kind, flags):
        calm = [(-5, 120, 80, 70, 98, 5, 0), (40, 130, 84, 72, 98, 5, 0), (115, 124, 80, 70, 98, 5, 0)]
        form = form_of(charted_session(readings=calm, events=(kind,)))
        assert (form.sedation, form.dissociation, form.respiratory_depression) == flags

    def test_what_the_chart_leaves_empty_is_named(self, clock):
        record = charted_session(readings=[(40, 130, 84, 72, 98, 5, 0)], events=())
        SessionRecord.objects.filter(pk=record.pk).update(
            lot_number="", takes_maois=None, ready_without_rule_minutes=None
        )
        Patient.objects.filter(pk=record.appointment.patient_id).update(date_of_birth=None)
        form = form_of(record)
        assert (form.bp_before, form.vitals_in_range_before) == (None, None)
        assert str(form.bp_40_minutes) == str(form.bp_at_end) == "130/84"  # the one reading is also the last
        assert form.missing == [
            "date of birth",
            "MAOIs",
            "lot number",
            "ready to leave without the 2-hour rule",
            "vital signs before administration",
            "blood pressure before administration",
        ]

    def test_the_deadline_counts_down_and_is_overdue_after_seven_days(self, clock):
        record = charted_session()
        clock.move_to(at(23, 59, day=15))
        assert (form_of(record).days_left, form_of(record).status) == (0, "due")
        clock.move_to(at(0, 1, day=17))
        form = form_of(record)
        assert (form.days_left, form.days_overdue, form.status) == (-2, 2, "overdue")

    def test_only_signed_esketamine_sessions_have_a_form(self, clock):
        signed = charted_session()
        charted_session(n=2, signed=False)
        charted_session(n=3, slug="iv-infusion")
        assert list(rems.rems_records()) == [signed]
        with pytest.raises(ValueError, match="REMS"):
            rems.monitoring_form(SessionRecord.objects.get(appointment__appointment_type__slug="iv-infusion"))


@pytest.mark.django_db
class TestMarkSubmitted:
    def test_records_who_and_when_once(self, clock):
        record = charted_session()
        manager = staff_with_role("Manager", first_name="Lee", last_name="Park")
        rems.rems_form_mark_submitted(record=record, by=manager)
        clock.move_to(at(15, 0))
        rems.rems_form_mark_submitted(record=record, by=staff_with_role("Manager"))  # again: the first stays
        form = form_of(record)
        assert (form.submitted_at, form.submitted_by, form.status) == (at(14, 0), "Lee Park", "submitted")
        entry = LogEntry.objects.get_for_object(record).get(changes__has_key="rems_submitted_at")
        assert entry.actor == manager

    def test_refused_for_an_unsigned_chart_or_a_session_without_the_rems(self, clock):
        manager = staff_with_role("Manager")
        with pytest.raises(rems.RemsFormRefused, match="not signed yet"):
            rems.rems_form_mark_submitted(record=charted_session(signed=False), by=manager)
        with pytest.raises(rems.RemsFormRefused, match="not given under the SPRAVATO REMS"):
            rems.rems_form_mark_submitted(record=charted_session(n=2, slug="iv-infusion"), by=manager)
        assert not SessionRecord.objects.filter(rems_submitted_at__isnull=False).exists()


# --- The pure choices ------------------------------------------------------------------------


def reading(minute: int, systolic=None, diastolic=None, *, heart_rate=None, spo2=None) -> rules.Reading:
    return rules.Reading(at(10, 0) + timedelta(minutes=minute), systolic, diastolic, heart_rate, spo2, None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Mary Ann Jones", ("Mary Ann", "Jones")),
        ("  Cher ", ("Cher", "")),
        ("", ("", "")),
        ("José  María\tGarcía", ("José María", "García")),
    ],
)
def test_names_are_split_at_the_last_word(typed, expected):
    assert rems.split_name(typed) == expected


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        (Decimal("56.0"), ("56 mg", None)),
        (Decimal(84), ("84 mg", None)),
        (Decimal(28), ("Other", Decimal(28))),
        (Decimal("84.5"), ("Other", Decimal("84.5"))),
        (None, ("", None)),
    ],
)
def test_the_dose_box(dose, expected):
    assert rems.dose_choice(dose) == expected


def test_the_recheck_is_the_blood_pressure_nearest_40_minutes_within_the_window():
    first = at(10, 0)
    taken = [reading(25, 120, 80), reading(33, 121, 80), reading(44, 122, 80), reading(58, 123, 80), reading(41)]
    assert rems.bp_recheck(taken, first, (30, 60)).systolic == 122  # 4 minutes off beats 7; 41 has no BP
    assert rems.bp_recheck([reading(36, 120, 80), reading(44, 122, 80)], first, (30, 60)).systolic == 120  # a tie
    assert rems.bp_recheck([reading(25, 120, 80), reading(61, 121, 80)], first, (30, 60)) is None


def test_before_and_at_the_end():
    first, end = at(10, 0), at(12, 5)
    taken = [reading(-10, 118, 76), reading(0, 119, 77), reading(120, 125, 80), reading(126, 190, 120)]
    assert rems.bp_before_administration(taken, first).systolic == 119  # at the moment itself counts
    assert rems.bp_at_end(taken, first, end).systolic == 125  # after the end: not counted
    assert rems.bp_at_end([reading(0, 119, 77)], first, end) is None  # before administration is not the end


def test_vitals_in_range_use_the_types_limits():
    limits = rules.CLINIC_LIMITS
    assert rems.in_range(limits, reading(0, 160, 100, heart_rate=50, spo2=94)) is True  # the limits are inclusive
    assert rems.in_range(limits, reading(0, 161, 80)) is False
    assert rems.in_range(limits, reading(0, spo2=93)) is False
    assert rems.in_range(limits, None) is None
