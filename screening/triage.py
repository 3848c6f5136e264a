"""Triage of a screening: pure rules on plain values, each reason naming its rule and source.

Outcomes, most pressing first: urgent (thoughts of death or self-harm: crisis help at once,
staff alerted, care still offered), not_suitable (an absolute contraindication or under 18:
no self-booking), review (a condition a clinician must weigh first), eligible.
"""

from dataclasses import dataclass, field

URGENT, NOT_SUITABLE, REVIEW, ELIGIBLE = "urgent", "not_suitable", "review", "eligible"
ADULT_AGE = 18

SPRAVATO_LABEL = "SPRAVATO (esketamine) US prescribing information, Contraindications"
CLINIC_PROTOCOL = "Clinic protocol (SPEC, clinical rules)"

# code: (what the patient ticked, source)
ABSOLUTE_CONTRAINDICATIONS = {
    "aneurysm_or_avm": ("Aneurysmal vascular disease or arteriovenous malformation", SPRAVATO_LABEL),
    "intracerebral_hemorrhage": ("History of bleeding in the brain (intracerebral hemorrhage)", SPRAVATO_LABEL),
    "ketamine_hypersensitivity": ("Allergy or hypersensitivity to ketamine or esketamine", SPRAVATO_LABEL),
}
RELATIVE_CONTRAINDICATIONS = {
    "uncontrolled_hypertension": (
        "High blood pressure that is not under control",
        "KETALAR US prescribing information; SPRAVATO prescribing information (blood pressure)",
    ),
    "unstable_heart_disease": ("Heart disease that is not stable", "SPRAVATO prescribing information (blood pressure)"),
    "psychosis": ("Psychosis or schizophrenia", "Sanacora et al., JAMA Psychiatry 2017"),
    "current_mania": ("Mania now", CLINIC_PROTOCOL),
    "substance_use_12m": (
        "Alcohol or drug use disorder in the last 12 months",
        "Sanacora et al., JAMA Psychiatry 2017",
    ),
    "pregnancy_or_breastfeeding": ("Pregnant or breastfeeding", CLINIC_PROTOCOL),
    "raised_icp_or_iop": ("Raised pressure in the head or the eyes", CLINIC_PROTOCOL),
    "hyperthyroidism": ("Overactive thyroid (hyperthyroidism)", CLINIC_PROTOCOL),
    "severe_liver_disease": ("Severe liver disease", CLINIC_PROTOCOL),
    "seizures": ("Seizures or epilepsy", CLINIC_PROTOCOL),
    "maoi_14d": ("An MAOI antidepressant in the last 14 days", CLINIC_PROTOCOL),
}
# Medicines the clinician discusses before treatment; they do not change the outcome.
DISCUSS_MEDICATIONS = {"benzodiazepines", "lamotrigine"}


@dataclass(frozen=True)
class Reason:
    rule: str
    outcome: str
    text: str
    source: str


# A safety answer above 0, saved, then changed to 0 before submitting (screening/services.py).
SAFETY_ANSWER_CHANGED = Reason(
    "phq9_item9_changed",
    URGENT,
    "Thoughts of being better off dead or of self-harm (PHQ-9 item 9), answered above 0 during the screening "
    "and changed to 0 before submitting",
    "PHQ-9, Kroenke et al. 2001; clinic safety protocol",
)


@dataclass(frozen=True)
class Triage:
    outcome: str  # the one that leads what the patient sees
    clinical_outcome: str  # the same without urgency: decides booking
    urgent: bool
    reasons: tuple[Reason, ...] = field(default=())
    flags: tuple[str, ...] = field(default=())

    @property
    def can_self_book_consultation(self) -> bool:
        return self.clinical_outcome != NOT_SUITABLE


def triage(*, age: int, phq9_item9: int, conditions: frozenset[str], medications: frozenset[str]) -> Triage:
    unknown = conditions - ABSOLUTE_CONTRAINDICATIONS.keys() - RELATIVE_CONTRAINDICATIONS.keys() - {"maoi_14d"}
    if unknown:
        raise ValueError(f"unknown conditions: {sorted(unknown)}")
    if not 0 <= phq9_item9 <= 3:
        raise ValueError("PHQ-9 item 9 is scored 0–3")

    reasons: list[Reason] = []
    urgent = phq9_item9 > 0
    if urgent:
        reasons.append(
            Reason("phq9_item9", URGENT, "Thoughts of being better off dead or of self-harm (PHQ-9 item 9)",
                   "PHQ-9, Kroenke et al. 2001; clinic safety protocol"),
        )  # fmt: skip
    if age < ADULT_AGE:
        reasons.append(Reason("under_18", NOT_SUITABLE, "Under 18: the clinic treats adults", CLINIC_PROTOCOL))
    for code, (text, source) in ABSOLUTE_CONTRAINDICATIONS.items():
        if code in conditions:
            reasons.append(Reason(code, NOT_SUITABLE, text, source))
    relative = conditions | ({"maoi_14d"} if "maoi_14d" in medications else set())
    for code, (text, source) in RELATIVE_CONTRAINDICATIONS.items():
        if code in relative:
            reasons.append(Reason(code, REVIEW, text, source))

    outcomes = {reason.outcome for reason in reasons} - {URGENT}
    clinical = next((outcome for outcome in (NOT_SUITABLE, REVIEW) if outcome in outcomes), ELIGIBLE)
    flags = tuple(sorted(f"discuss:{medicine}" for medicine in medications & DISCUSS_MEDICATIONS))
    if urgent:
        flags = (URGENT, *flags)
    return Triage(
        outcome=URGENT if urgent else clinical,
        clinical_outcome=clinical,
        urgent=urgent,
        reasons=tuple(reasons),
        flags=flags,
    )
