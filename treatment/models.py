"""The chart of a monitored treatment session (SPEC, "Session chart"): one SessionRecord per
treatment visit, its timed observations, adverse events, discharge overrides and, once signed,
addenda. Scores over time (PHQ-9, GAD-7) are Measurements, whatever their source.

Changes go through treatment/services.py, which enforces the rules (treatment/rules.py) and the
lock after signing; every model here is in the audit trail (staff/audit.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from treatment import rules


class Route(models.TextChoices):
    INTRANASAL = "intranasal", _("Intranasal")
    INTRAVENOUS = "intravenous", _("Intravenous")
    INTRAMUSCULAR = "intramuscular", _("Intramuscular")


class SessionRecord(models.Model):
    appointment = models.OneToOneField(
        "booking.Appointment", verbose_name=_("visit"), on_delete=models.PROTECT, related_name="chart"
    )
    started_at = models.DateTimeField(_("chart opened"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    # Check-in checklist.
    fasted_since = models.DateTimeField(_("no food since"), null=True, blank=True)
    ride_driver_name = models.CharField(_("driver's name"), max_length=150, blank=True)
    ride_driver_phone = models.CharField(_("driver's phone"), max_length=32, blank=True)
    ride_alternative = models.CharField(
        _("documented alternative to a ride"),
        max_length=500,
        blank=True,
        help_text=_("e.g. stays overnight with a relative next door; who agreed it."),
    )
    # The medicines asked about by the REMS monitoring form (None: not yet asked).
    takes_benzodiazepines = models.BooleanField(_("benzodiazepines"), null=True, blank=True)
    takes_sedative_hypnotics = models.BooleanField(_("non-benzodiazepine sedative hypnotics"), null=True, blank=True)
    takes_psychostimulants = models.BooleanField(_("psychostimulants"), null=True, blank=True)
    takes_maois = models.BooleanField(_("MAOIs"), null=True, blank=True)
    medicines_note = models.CharField(_("other medicines"), max_length=500, blank=True)
    medicines_reviewed_at = models.DateTimeField(_("medicines reviewed"), null=True, blank=True)

    # Administration.
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(rules.WEIGHT_KG_RANGE[0]), MaxValueValidator(rules.WEIGHT_KG_RANGE[1])],
    )
    dose_mg = models.DecimalField(
        _("dose (mg)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    route = models.CharField(_("route"), max_length=16, choices=Route.choices, blank=True)
    lot_number = models.CharField(_("lot number"), max_length=40, blank=True)
    first_administration_at = models.DateTimeField(_("first administration"), null=True, blank=True)
    # The REMS form's question: had there been no 2-hour rule, when the patient would have been
    # ready to leave, in minutes from the start of administration.
    ready_without_rule_minutes = models.PositiveSmallIntegerField(
        _("ready to leave without the 2-hour rule (minutes)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24 * 60)],
    )

    # Discharge and signature.
    discharged_at = models.DateTimeField(_("discharged"), null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discharged_to = models.CharField(_("discharged to"), max_length=150, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # The REMS monitoring form (esketamine), due within 7 days of the session.
    rems_submitted_at = models.DateTimeField(_("REMS form submitted"), null=True, blank=True)
    rems_submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("session chart")
        permissions = [
            ("chart_session", _("Can chart a treatment session")),
            ("sign_session", _("Can discharge, override a stop and sign a session's chart")),
            ("submit_rems_form", _("Can mark a REMS monitoring form submitted")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(discharged_at__isnull=False),
                name="chart_signed_after_discharge",
            ),
        ]

    def __str__(self) -> str:
        return f"Session chart #{self.pk}"

    @property
    def locked(self) -> bool:
        return self.signed_at is not None

    @property
    def ride_arranged(self) -> bool:
        return bool(self.ride_driver_name and self.ride_driver_phone) or bool(self.ride_alternative.strip())


class Observation(models.Model):
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="observations")
    at = models.DateTimeField(_("taken at"))
    systolic = models.PositiveSmallIntegerField(_("systolic (mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("diastolic (mmHg)"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("heart rate (/min)"), null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True)
    sedation = models.PositiveSmallIntegerField(
        _("sedation (MOAA/S)"), null=True, blank=True, choices=sorted(rules.MOAA_S_LABELS.items(), reverse=True)
    )
    dissociation = models.PositiveSmallIntegerField(
        _("dissociation"), null=True, blank=True, choices=sorted(rules.DISSOCIATION_LABELS.items())
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    addendum = models.BooleanField(_("added after signing"), default=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("observation")
        constraints = [
            models.CheckConstraint(
                condition=Q(systolic__isnull=True, diastolic__isnull=True)
                | Q(systolic__isnull=False, diastolic__isnull=False, systolic__gt=models.F("diastolic")),
                name="observation_bp_pair",
            ),
            models.CheckConstraint(condition=Q(spo2__lte=100), name="observation_spo2_percent"),
            models.CheckConstraint(condition=Q(sedation__lte=rules.MOAA_S_ALERT), name="observation_moaa_s"),
        ]

    def __str__(self) -> str:
        return f"Observation #{self.pk}"

    def reading(self) -> rules.Reading:
        return rules.Reading(self.at, self.systolic, self.diastolic, self.heart_rate, self.spo2, self.sedation)


class AdverseEvent(models.Model):
    class Kind(models.TextChoices):
        SEDATION = "sedation", _("Sedation")
        DISSOCIATION = "dissociation", _("Dissociation")
        RESPIRATORY = "respiratory", _("Respiratory depression")
        HYPERTENSION = "hypertension", _("Blood pressure rise")
        NAUSEA = "nausea", _("Nausea or vomiting")
        ANXIETY = "anxiety", _("Anxiety or agitation")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="adverse_events")
    at = models.DateTimeField(_("began at"))
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=500, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    action = models.CharField(_("action taken"), max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    addendum = models.BooleanField(_("added after signing"), default=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("adverse event")

    def __str__(self) -> str:
        return f"Adverse event #{self.pk}"


class DischargeOverride(models.Model):
    """A clinician let a patient go past one hard stop (rules.STOP_CODES), with a written reason."""

    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="overrides")
    stop = models.CharField(_("hard stop"), max_length=40)
    stop_text = models.CharField(_("what it said"), max_length=300)
    reason = models.TextField(_("reason"), max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("discharge override")

    def __str__(self) -> str:
        return f"Override #{self.pk}"


class Addendum(models.Model):
    """A dated, signed note added to a chart after it was signed (the chart itself is locked)."""

    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(_("addendum"), max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("written"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")

    def __str__(self) -> str:
        return f"Addendum #{self.pk}"


class Measurement(models.Model):
    """One PHQ-9 or GAD-7 score of a patient from a check-in before a treatment or entered by a
    clinician. With the scores of the patient's screenings (read from the screenings themselves,
    Source.SCREENING labelling them) they are the points of the trend (treatment/measurements.py)."""

    class Instrument(models.TextChoices):
        PHQ9 = "phq9", "PHQ-9"
        GAD7 = "gad7", "GAD-7"

    class Source(models.TextChoices):
        SCREENING = "screening", _("Screening")
        CHECK_IN = "check_in", _("Check-in before a treatment")
        CLINICIAN = "clinician", _("Entered by a clinician")

    patient = models.ForeignKey("booking.Patient", on_delete=models.PROTECT, related_name="measurements")
    instrument = models.CharField(_("questionnaire"), max_length=8, choices=Instrument.choices)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MaxValueValidator(27)])
    taken_at = models.DateTimeField(_("taken"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    # The item answers of a check-in (0–3 each), kept for the clinician; [] otherwise.
    answers = models.JSONField(_("answers"), default=list, blank=True)
    appointment = models.ForeignKey(
        "booking.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="measurements"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A check-in's PHQ-9 item 9 above 0: when staff were alerted (once), as for a screening.
    staff_alerted_at = models.DateTimeField(_("staff alerted"), null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        verbose_name = _("score")
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument="phq9", score__lte=27) | Q(instrument="gad7", score__lte=21),
                name="measurement_score_range",
            ),
            # One check-in per visit and questionnaire (a second submission does not add a point).
            models.UniqueConstraint(
                fields=["appointment", "instrument"],
                condition=Q(source="check_in"),
                name="measurement_one_check_in_per_visit",
            ),
        ]
        indexes = [models.Index(fields=["patient", "instrument", "taken_at"])]

    def __str__(self) -> str:
        return f"Score #{self.pk}"
