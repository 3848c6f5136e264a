import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from screening import triage

RESULT_LINK_DAYS = 30
UNFINISHED_KEPT_DAYS = 7


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class Outcome(models.TextChoices):
    """Triage's outcomes (screening/triage.py, where they are decided), labelled for staff."""

    ELIGIBLE = triage.ELIGIBLE, _("Eligible")
    REVIEW = triage.REVIEW, _("Needs clinician review")
    NOT_SUITABLE = triage.NOT_SUITABLE, _("Not suitable")
    URGENT = triage.URGENT, _("Urgent")


class ReviewDecision(models.TextChoices):
    """What a clinician decided on reviewing a screening (the review queue)."""

    CONTACTED = "contacted", _("Contacted the patient")
    CONSULTATION = "consultation", _("Needs a consultation")
    PLAN = "plan", _("Approved a treatment plan")
    NOT_SUITABLE = "not_suitable", _("Not suitable")


class ScreeningQuerySet(models.QuerySet):
    def submitted(self):
        return self.filter(submitted_at__isnull=False)

    def unfinished_before(self, moment: datetime.datetime):
        """Drafts left since `moment`; not one whose safety answer staff must follow up."""
        return self.filter(submitted_at__isnull=True, updated_at__lt=moment, safety_flagged_at__isnull=True)


class Screening(models.Model):
    """One person's pre-consultation screening: a draft while they answer, then submitted and scored."""

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    region = models.CharField(_("state"), max_length=2, blank=True)

    # Every answer given, once: {"steps": {step: cleaned answers}, "typed": {step: raw form input}}.
    answers = models.JSONField(_("answers"), default=dict, blank=True)

    phq9_total = models.PositiveSmallIntegerField(_("PHQ-9 total"), null=True, blank=True)
    phq9_band = models.CharField(_("PHQ-9 band"), max_length=20, blank=True)
    gad7_total = models.PositiveSmallIntegerField(_("GAD-7 total"), null=True, blank=True)
    gad7_band = models.CharField(_("GAD-7 band"), max_length=20, blank=True)
    pcl5_total = models.PositiveSmallIntegerField(_("PCL-5 total"), null=True, blank=True)
    pcl5_positive = models.BooleanField(_("PCL-5 provisional positive"), null=True, blank=True)

    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    clinical_outcome = models.CharField(
        _("outcome without urgency"), max_length=20, choices=Outcome.choices, blank=True
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)

    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    # When the safety question (PHQ-9 item 9) was first answered above 0, submitted or not.
    safety_flagged_at = models.DateTimeField(_("safety answer given"), null=True, blank=True)
    staff_alerted_at = models.DateTimeField(_("staff alerted"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_decision = models.CharField(_("decision"), max_length=20, choices=ReviewDecision.choices, blank=True)
    review_note = models.TextField(_("review note"), max_length=2000, blank=True)
    # An urgent screening still unreviewed after URGENT_REVIEW_HOURS: when the clinicians were alerted again.
    review_overdue_alerted_at = models.DateTimeField(_("overdue review alerted"), null=True, blank=True)

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        permissions = [
            ("view_screening_answers", _("Can see a screening's answers, scores and reasons")),
            ("review_screening", _("Can review a screening")),
        ]
        indexes = [models.Index(fields=["submitted_at", "updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submitted_at__isnull=True) | ~models.Q(outcome=""),
                name="screening_submitted_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        # Never the name: this string appears in admin logs and messages.
        return f"Screening #{self.pk}"

    @property
    def step_answers(self) -> dict:
        return self.answers.get("steps", {})

    @property
    def typed_answers(self) -> dict:
        return self.answers.get("typed", {})

    @property
    def result_expires_at(self) -> datetime.datetime | None:
        return self.submitted_at + datetime.timedelta(days=RESULT_LINK_DAYS) if self.submitted_at else None
