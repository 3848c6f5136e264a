"""The hard stops of a discharge (treatment/rules.py), every one at its boundaries, without a
database: an esketamine session dosed at 9:00 whose patient is fine at 11:00 is the baseline,
and each test changes one thing."""

from datetime import UTC, datetime, timedelta

import pytest

from treatment import rules
from treatment.rules import (
    NO_BP_BEFORE_DISCHARGE,
    NO_BP_RECHECK,
    NO_RIDE,
    NOT_ALERT,
    NOT_STARTED,
    OUT_OF_LIMITS,
    STOP_CODES,
    TOO_SOON,
    Reading,
    discharge_stops,
    rules_for,
)

ESKETAMINE = rules.RULES["esketamine-nasal"]
IV = rules.RULES["iv-infusion"]
DOSED = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    """`n` minutes after the first administration."""
    return DOSED + timedelta(minutes=n)


def reading(n: float, *, bp=(120, 80), heart_rate=72, spo2=98, sedation=5) -> Reading:
    systolic, diastolic = bp if bp is not None else (None, None)
    return Reading(minute(n), systolic, diastolic, heart_rate, spo2, sedation)


# Before dosing, about 40 minutes after, and just before discharge at 120.
GOOD = (reading(-10), reading(40), reading(115))


def stops(
    readings=GOOD,
    *,
    at: float = 120,
    chart_rules=ESKETAMINE,
    first_administration_at: datetime | None = DOSED,
    ride_arranged=True,
) -> list[str]:
    return [
        stop.code
        for stop in discharge_stops(
            chart_rules,
            first_administration_at=first_administration_at,
            discharge_at=minute(at),
            readings=list(readings),
            ride_arranged=ride_arranged,
        )
    ]


def test_a_session_charted_as_it_should_be_may_end():
    assert stops() == []


def test_every_stop_at_once_in_the_order_staff_resolve_them():
    found = discharge_stops(
        ESKETAMINE,
        first_administration_at=DOSED,
        discharge_at=minute(70),
        readings=[reading(0, bp=None, spo2=80, sedation=3)],
        ride_arranged=False,
    )
    assert [stop.code for stop in found] == [
        TOO_SOON,
        NO_BP_RECHECK,
        NO_BP_BEFORE_DISCHARGE,
        OUT_OF_LIMITS,
        NOT_ALERT,
        NO_RIDE,
    ]
    assert all(stop.text and stop.source for stop in found)
    assert {stop.code for stop in found} <= set(STOP_CODES)


# --- Monitoring time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "refused"),
    [(119, True), (119.99, True), (120, False), (121, False), (240, False)],
    ids=["119 min", "119 min 59 s", "120 min", "121 min", "4 h"],
)
def test_esketamine_needs_two_hours_from_the_first_administration(at, refused):
    readings = (*GOOD[:2], reading(at - 1))
    assert (TOO_SOON in stops(readings, at=at)) is refused


def test_the_too_soon_stop_says_how_long_and_how_long_is_needed_with_the_label_as_source():
    (stop,) = [
        s
        for s in discharge_stops(
            ESKETAMINE, first_administration_at=DOSED, discharge_at=minute(70), readings=GOOD, ride_arranged=True
        )
        if s.code == TOO_SOON
    ]
    assert stop.text == "Monitored 70 minutes since the first administration; at least 120 are required."
    assert "SPRAVATO" in stop.source and "2 hours" in stop.source


def test_a_discharge_before_the_first_administration_counts_zero_minutes_not_negative():
    (stop,) = [
        s
        for s in discharge_stops(
            ESKETAMINE, first_administration_at=DOSED, discharge_at=minute(-30), readings=[], ride_arranged=True
        )
        if s.code == TOO_SOON
    ]
    assert stop.text.startswith("Monitored 0 minutes")


@pytest.mark.parametrize(("at", "refused"), [(59, True), (60, False)])
def test_an_infusion_has_its_own_minimum(at, refused):
    readings = (reading(-10), reading(40), reading(at - 5))
    assert (TOO_SOON in stops(readings, at=at, chart_rules=IV)) is refused


def test_no_first_administration_charted_is_its_own_stop_and_no_window_is_asked_of_it():
    found = stops(first_administration_at=None)
    assert found == [NOT_STARTED]


# --- Blood pressure about 40 minutes after dosing ---------------------------------------------


@pytest.mark.parametrize(
    ("when", "refused"),
    [(29, True), (29.99, True), (30, False), (40, False), (60, False), (60.01, True), (61, True)],
    ids=["29", "29:59", "30", "40", "60", "60:01", "61"],
)
def test_the_recheck_window_is_30_to_60_minutes_both_included(when, refused):
    readings = (reading(-10), reading(when), reading(115))
    assert (NO_BP_RECHECK in stops(readings)) is refused


def test_a_reading_in_the_window_without_a_blood_pressure_is_not_a_recheck():
    readings = (reading(-10), reading(40, bp=None), reading(115))
    assert stops(readings) == [NO_BP_RECHECK]


def test_a_recheck_charted_after_the_discharge_time_does_not_count():
    # Dosed at 0, discharged at 35 after a window reading at 40: that reading is not yet taken.
    assert NO_BP_RECHECK in stops((reading(-10), reading(40)), at=35)


# --- Blood pressure before discharge ----------------------------------------------------------


@pytest.mark.parametrize(
    ("last_bp", "refused"), [(105, False), (104.99, True), (100, True), (120, False)], ids=["15", "15:01", "20", "0"]
)
def test_the_last_blood_pressure_must_be_at_most_15_minutes_old(last_bp, refused):
    readings = (reading(-10), reading(40), reading(last_bp))
    assert (NO_BP_BEFORE_DISCHARGE in stops(readings)) is refused


def test_a_later_reading_without_blood_pressure_does_not_stand_for_one():
    readings = (reading(-10), reading(40), reading(90), reading(118, bp=None))
    assert stops(readings) == [NO_BP_BEFORE_DISCHARGE]


def test_no_blood_pressure_at_all():
    readings = (reading(40, bp=None), reading(115, bp=None))
    assert stops(readings) == [NO_BP_RECHECK, NO_BP_BEFORE_DISCHARGE]


def test_a_baseline_taken_before_dosing_is_never_the_one_before_discharge():
    # Discharged 5 minutes after dosing, the baseline 3 minutes before it is "recent" but not after dosing.
    assert NO_BP_BEFORE_DISCHARGE in stops((reading(-3),), at=5)


def test_without_a_first_administration_a_recent_blood_pressure_is_enough():
    assert NO_BP_BEFORE_DISCHARGE not in stops((reading(110),), first_administration_at=None)


# --- Discharge limits of the last values ------------------------------------------------------


LIMITS = rules.CLINIC_LIMITS


@pytest.mark.parametrize(
    ("last", "refused"),
    [
        pytest.param({"bp": (LIMITS.systolic_max, 80)}, False, id="systolic at its limit"),
        pytest.param({"bp": (LIMITS.systolic_max + 1, 80)}, True, id="systolic beyond"),
        pytest.param({"bp": (130, LIMITS.diastolic_max)}, False, id="diastolic at its limit"),
        pytest.param({"bp": (130, LIMITS.diastolic_max + 1)}, True, id="diastolic beyond"),
        pytest.param({"heart_rate": LIMITS.heart_rate_max}, False, id="heart rate at its top"),
        pytest.param({"heart_rate": LIMITS.heart_rate_max + 1}, True, id="heart rate above"),
        pytest.param({"heart_rate": LIMITS.heart_rate_min}, False, id="heart rate at its bottom"),
        pytest.param({"heart_rate": LIMITS.heart_rate_min - 1}, True, id="heart rate below"),
        pytest.param({"spo2": LIMITS.spo2_min}, False, id="SpO2 at its limit"),
        pytest.param({"spo2": LIMITS.spo2_min - 1}, True, id="SpO2 below"),
        pytest.param({"spo2": 100}, False, id="SpO2 100"),
    ],
)
def test_each_limit_at_and_beyond(last, refused):
    readings = (*GOOD[:2], reading(115, **last))
    assert stops(readings) == ([OUT_OF_LIMITS] if refused else [])


def test_the_out_of_limits_stop_names_every_value_outside():
    (stop,) = discharge_stops(
        ESKETAMINE,
        first_administration_at=DOSED,
        discharge_at=minute(120),
        readings=[*GOOD[:2], reading(115, bp=(170, 105), heart_rate=120, spo2=90)],
        ride_arranged=True,
    )
    assert stop.code == OUT_OF_LIMITS
    for part in ("systolic 170 > 160", "diastolic 105 > 100", "heart rate 120 outside 50–110", "SpO2 90% < 94%"):
        assert part in stop.text


def test_only_the_latest_values_count_an_earlier_high_reading_that_settled_does_not():
    readings = (reading(-10), reading(40, bp=(175, 105), heart_rate=125), reading(115))
    assert stops(readings) == []


def test_a_sedation_check_after_a_high_blood_pressure_does_not_hide_it():
    """Fixed in rules.py: the limits were checked on the last reading only, so a MOAA/S-only entry
    after a blood pressure of 175/105 let the patient go."""
    readings = (*GOOD[:2], reading(110, bp=(175, 105)), reading(118, bp=None, heart_rate=None, spo2=None))
    assert stops(readings) == [OUT_OF_LIMITS]


def test_a_stale_blood_pressure_does_not_hide_a_low_oxygen_saturation():
    """Fixed in rules.py: the limits were skipped whenever the blood pressure before discharge was
    missing, so overriding that one stop let a patient with SpO2 88% go without a second stop."""
    readings = (*GOOD[:2], reading(90), reading(118, bp=None, spo2=88))
    assert stops(readings) == [NO_BP_BEFORE_DISCHARGE, OUT_OF_LIMITS]


def test_a_reading_missing_a_measure_leaves_the_earlier_value_of_that_measure_in_force():
    readings = (*GOOD[:2], reading(100, spo2=91), reading(115, spo2=None))
    assert stops(readings) == [OUT_OF_LIMITS]


def test_no_readings_at_all_are_not_out_of_limits_but_every_missing_check_stops():
    assert stops(()) == [NO_BP_RECHECK, NO_BP_BEFORE_DISCHARGE, NOT_ALERT]


# --- Sedation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sedation", "refused"), [(None, True), (0, True), (4, True), (5, False)], ids=["not charted", "0", "4", "5"]
)
def test_sedation_must_be_back_to_fully_alert(sedation, refused):
    readings = [reading(-10, sedation=sedation), reading(40, sedation=sedation), reading(115, sedation=sedation)]
    assert (NOT_ALERT in stops(readings)) is refused


def test_the_last_charted_sedation_counts_even_on_an_earlier_reading():
    readings = (reading(-10), reading(40, sedation=3), reading(100, sedation=5), reading(115, sedation=None))
    assert stops(readings) == []
    readings = (reading(-10), reading(40, sedation=5), reading(100, sedation=4), reading(115, sedation=None))
    assert stops(readings) == [NOT_ALERT]


def test_the_not_alert_stop_shows_the_last_score():
    found = discharge_stops(
        ESKETAMINE,
        first_administration_at=DOSED,
        discharge_at=minute(120),
        readings=[*GOOD[:2], reading(115, sedation=4)],
        ride_arranged=True,
    )
    assert [stop.text for stop in found] == ["Sedation is not back to fully alert (MOAA/S 5): last MOAA/S 4."]


# --- Ride home --------------------------------------------------------------------------------


def test_no_ride_home_and_no_documented_alternative_stops():
    assert stops(ride_arranged=False) == [NO_RIDE]


# --- What counts ------------------------------------------------------------------------------


def test_readings_after_the_discharge_time_are_ignored():
    # A perfect reading "at 125" does not rescue a discharge at 120 whose last reading is bad.
    readings = (*GOOD[:2], reading(115, sedation=3, spo2=90), reading(125))
    assert stops(readings) == [OUT_OF_LIMITS, NOT_ALERT]


def test_readings_in_any_order_give_the_same_stops():
    readings = (reading(115, spo2=90), reading(-10), reading(40), reading(100))
    assert stops(readings) == stops(tuple(sorted(readings, key=lambda r: r.at))) == [OUT_OF_LIMITS]


def test_the_types_and_their_sources():
    assert rules_for("esketamine-nasal") is ESKETAMINE and rules_for("iv-infusion") is IV
    assert rules_for("consultation") is None and rules_for("") is None
    assert ESKETAMINE.min_monitoring_minutes == 120 and ESKETAMINE.rems and not ESKETAMINE.dose_per_kg
    assert IV.dose_per_kg and not IV.rems
    assert "SPRAVATO" in ESKETAMINE.min_monitoring_source


def test_the_scales_shown_to_staff():
    assert sorted(rules.MOAA_S_LABELS) == [0, 1, 2, 3, 4, 5] and rules.MOAA_S_ALERT == 5
    assert rules.MOAA_S_LABELS[5].startswith("5 — ") and "alert" in rules.MOAA_S_LABELS[5]
    assert sorted(rules.DISSOCIATION_LABELS) == [0, 1, 2, 3]
