"""The clinical rules of a monitored treatment session, as data per appointment type, each with
its source (like screening/triage.py), and the pure check of a discharge against them.

No database here: `discharge_stops` takes plain values, so every stop is tested exhaustively
(tests/treatment/test_rules.py). The services (treatment/services.py) gather the values from a
chart and refuse the discharge with the stops it returns, unless a clinician overrides them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

SPRAVATO_LABEL = "SPRAVATO (esketamine) US prescribing information, 2.4 Administration and monitoring"
SPRAVATO_REMS = "SPRAVATO REMS, Patient Monitoring Form (outpatient)"
CLINIC_PROTOCOL = "Clinic protocol (SPEC, session chart)"

# The Modified Observer's Assessment of Alertness/Sedation scale: 5 is fully alert (responds
# readily to name spoken in a normal tone), 0 no response to a painful stimulus. The label
# reports sedation on this scale (SPRAVATO prescribing information, 5.1).
MOAA_S_ALERT = 5
MOAA_S_LABELS = {
    5: "5 — responds readily to name in a normal tone (alert)",
    4: "4 — lethargic response to name in a normal tone",
    3: "3 — responds only after name is called loudly or repeatedly",
    2: "2 — responds only after mild prodding or shaking",
    1: "1 — responds only after a painful stimulus",
    0: "0 — no response after a painful stimulus",
}
# Dissociation as the clinician observes it (not a validated scale: CADSS is not charted here).
DISSOCIATION_LABELS = {0: "0 — none", 1: "1 — mild", 2: "2 — moderate", 3: "3 — severe"}

# Plausible ranges for a reading (what a typing slip produces falls outside; a reading inside is
# charted even when it is alarming, so the chart tells the truth).
SYSTOLIC_RANGE = (50, 260)
DIASTOLIC_RANGE = (20, 160)
HEART_RATE_RANGE = (20, 250)
SPO2_RANGE = (0, 100)
WEIGHT_KG_RANGE = (25, 350)


@dataclass(frozen=True)
class Limits:
    """Discharge limits for the last reading (inclusive)."""

    systolic_max: int
    diastolic_max: int
    heart_rate_min: int
    heart_rate_max: int
    spo2_min: int


@dataclass(frozen=True)
class ChartRules:
    min_monitoring_minutes: int  # from the first administration to discharge
    min_monitoring_source: str
    # A blood pressure taken between these minutes after the first administration ("about 40").
    bp_recheck_window: tuple[int, int]
    bp_recheck_source: str
    # The last blood pressure must be at most this many minutes before discharge.
    bp_before_discharge_minutes: int
    limits: Limits
    limits_source: str
    route: str
    dose_per_kg: bool  # IV: the dose is charted in mg/kg with the weight
    rems: bool  # esketamine: REMS enrollment before booking and check-in, a monitoring form after
    # What a dose may be (a typing slip caught, not a prescription): the doses the product comes
    # in, or a ceiling in mg/kg for a dose by weight.
    doses_mg: tuple[int, ...] = ()
    max_mg_per_kg: Decimal | None = None
    dose_source: str = CLINIC_PROTOCOL
    # Before the first administration: the label's "elevated" baseline (the REMS form asks whether
    # vital signs were in an acceptable range then). None: the discharge limits.
    predose_limits: Limits | None = None
    rems_form_days: int = 7


# The clinic's discharge limits: the label asks that blood pressure "remain consistent at a safe
# level" and that the clinician judge the patient stable; these are the numbers this clinic uses.
CLINIC_LIMITS = Limits(systolic_max=160, diastolic_max=100, heart_rate_min=50, heart_rate_max=110, spo2_min=94)

RULES: dict[str, ChartRules] = {
    "esketamine-nasal": ChartRules(
        min_monitoring_minutes=120,
        min_monitoring_source=SPRAVATO_LABEL + " (at least 2 hours after administration)",
        bp_recheck_window=(30, 60),
        bp_recheck_source=SPRAVATO_LABEL + " (blood pressure before and about 40 minutes after dosing)",
        bp_before_discharge_minutes=15,
        limits=CLINIC_LIMITS,
        limits_source=CLINIC_PROTOCOL,
        route="intranasal",
        dose_per_kg=False,
        rems=True,
        # Each device delivers 28 mg, so a session's dose is a whole number of devices; the label
        # doses 56 or 84 mg, and the REMS form has "other" for anything else.
        doses_mg=(28, 56, 84),
        dose_source="SPRAVATO (esketamine) US prescribing information, 2.2 Dosage and 16 How supplied",
        predose_limits=Limits(systolic_max=140, diastolic_max=90, heart_rate_min=50, heart_rate_max=110, spo2_min=94),
    ),
    "iv-infusion": ChartRules(
        # A 40-minute infusion and at least 20 minutes of observation after it.
        min_monitoring_minutes=60,
        min_monitoring_source=CLINIC_PROTOCOL,
        bp_recheck_window=(30, 60),
        bp_recheck_source=CLINIC_PROTOCOL + " (as for esketamine: blood pressure peaks about 40 minutes in)",
        bp_before_discharge_minutes=15,
        limits=CLINIC_LIMITS,
        limits_source=CLINIC_PROTOCOL,
        route="intravenous",
        dose_per_kg=True,
        rems=False,
        # 0.5 mg/kg over 40 minutes is the studied dose; the clinic goes no higher than 1 mg/kg.
        max_mg_per_kg=Decimal(1),
    ),
}


def rules_for(slug: str) -> ChartRules | None:
    """The chart rules of a treatment type; None for a visit that is not a monitored session."""
    return RULES.get(slug)


@dataclass(frozen=True)
class Reading:
    at: datetime
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    spo2: int | None
    sedation: int | None


@dataclass(frozen=True)
class Stop:
    """One reason a discharge is refused: `code` is stable (overrides are recorded by it)."""

    code: str
    text: str
    source: str


NOT_STARTED = "not_administered"
TOO_SOON = "monitoring_too_short"
NO_BP_RECHECK = "no_bp_recheck"
NO_BP_BEFORE_DISCHARGE = "no_bp_before_discharge"
OUT_OF_LIMITS = "last_reading_out_of_limits"
NOT_ALERT = "not_alert"
NO_RIDE = "no_ride_home"
STOP_CODES = (NOT_STARTED, TOO_SOON, NO_BP_RECHECK, NO_BP_BEFORE_DISCHARGE, OUT_OF_LIMITS, NOT_ALERT, NO_RIDE)


def discharge_stops(
    rules: ChartRules,
    *,
    first_administration_at: datetime | None,
    discharge_at: datetime,
    readings: Sequence[Reading],
    ride_arranged: bool,
) -> list[Stop]:
    """Every hard stop that refuses a discharge at `discharge_at`, in the order staff resolve
    them; [] when the patient may go. `readings` in any order; those after `discharge_at` are
    not counted. `ride_arranged`: a confirmed ride home or a documented alternative."""
    stops: list[Stop] = []
    if first_administration_at is None:
        stops.append(Stop(NOT_STARTED, "No first administration time is charted.", CLINIC_PROTOCOL))
        monitored = None
    else:
        monitored = discharge_at - first_administration_at
        if monitored < timedelta(minutes=rules.min_monitoring_minutes):
            minutes = max(0, int(monitored.total_seconds() // 60))
            stops.append(
                Stop(
                    TOO_SOON,
                    f"Monitored {minutes} minutes since the first administration; at least "
                    f"{rules.min_monitoring_minutes} are required.",
                    rules.min_monitoring_source,
                )
            )
    taken = sorted((r for r in readings if r.at <= discharge_at), key=lambda r: r.at)
    # The patient's state at discharge is read from readings after the first administration: a
    # baseline taken before it says nothing of sedation or blood pressure after the dose.
    after = [r for r in taken if first_administration_at is None or r.at >= first_administration_at]
    with_bp = [r for r in taken if r.systolic is not None and r.diastolic is not None]
    if first_administration_at is not None:
        low, high = rules.bp_recheck_window
        window = (first_administration_at + timedelta(minutes=low), first_administration_at + timedelta(minutes=high))
        if not any(window[0] <= r.at <= window[1] for r in with_bp):
            stops.append(
                Stop(
                    NO_BP_RECHECK,
                    f"No blood pressure between {low} and {high} minutes after the first administration.",
                    rules.bp_recheck_source,
                )
            )
    recent = timedelta(minutes=rules.bp_before_discharge_minutes)
    if (
        not with_bp
        or discharge_at - with_bp[-1].at > recent
        or (first_administration_at is not None and with_bp[-1].at <= first_administration_at)
    ):
        stops.append(
            Stop(
                NO_BP_BEFORE_DISCHARGE,
                f"No blood pressure in the {rules.bp_before_discharge_minutes} minutes before discharge.",
                rules.bp_recheck_source,
            )
        )
    # The latest value of each measure, whichever reading holds it: a sedation-only check after
    # a high blood pressure does not hide it, and overriding a stale reading does not skip the limits.
    if after and (out := _out_of_limits(rules.limits, _latest(after))):
        stops.append(
            Stop(OUT_OF_LIMITS, "The last reading is outside the discharge limits: " + out + ".", rules.limits_source)
        )
    last_sedation = next((r.sedation for r in reversed(after) if r.sedation is not None), None)
    if last_sedation != MOAA_S_ALERT:
        shown = "not charted" if last_sedation is None else f"MOAA/S {last_sedation}"
        stops.append(Stop(NOT_ALERT, f"Sedation is not back to fully alert (MOAA/S 5): last {shown}.", SPRAVATO_LABEL))
    if not ride_arranged:
        stops.append(
            Stop(
                NO_RIDE, "The ride home is neither confirmed nor replaced by a documented alternative.", SPRAVATO_LABEL
            )
        )
    return stops


def _latest(taken: Sequence[Reading]) -> Reading:
    """One reading of the latest value of each measure in `taken` (in time order); the blood
    pressure as the pair it was taken in."""

    def last(values: list[int | None]) -> int | None:
        return next((value for value in reversed(values) if value is not None), None)

    bp = next(
        ((r.systolic, r.diastolic) for r in reversed(taken) if r.systolic is not None and r.diastolic is not None),
        (None, None),
    )
    return Reading(
        taken[-1].at,
        bp[0],
        bp[1],
        last([r.heart_rate for r in taken]),
        last([r.spo2 for r in taken]),
        last([r.sedation for r in taken]),
    )


def _out_of_limits(limits: Limits, reading: Reading) -> str:
    """What of the last reading is outside the limits, in words; "" when all is within."""
    out = []
    if reading.systolic is not None and reading.systolic > limits.systolic_max:
        out.append(f"systolic {reading.systolic} > {limits.systolic_max}")
    if reading.diastolic is not None and reading.diastolic > limits.diastolic_max:
        out.append(f"diastolic {reading.diastolic} > {limits.diastolic_max}")
    if reading.heart_rate is not None and not limits.heart_rate_min <= reading.heart_rate <= limits.heart_rate_max:
        out.append(f"heart rate {reading.heart_rate} outside {limits.heart_rate_min}–{limits.heart_rate_max}")
    if reading.spo2 is not None and reading.spo2 < limits.spo2_min:
        out.append(f"SpO2 {reading.spo2}% < {limits.spo2_min}%")
    return ", ".join(out)


def within_limits(limits: Limits, reading: Reading) -> bool:
    """Whether every value charted in this reading is inside the limits (the REMS monitoring form's
    "vital signs in acceptable range")."""
    return not _out_of_limits(limits, reading)
