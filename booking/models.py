import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from booking import visit_status


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def new_video_room() -> str:
    """A video visit's own room name on VIDEO_ROOM_BASE_URL: unguessable, so nobody drops in."""
    return secrets.token_urlsafe(24)  # 192 bits


# Honorifics left out of a clinician's initials on the site ("Dr. Maya Chen" → "MC").
HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof"})


class ClinicianQuerySet(models.QuerySet):
    def on_site(self):
        """The care team as the public site shows it: only what patients may see, in the chosen order."""
        return self.filter(shown_on_site=True).order_by("site_order", "name").only("name", "credentials", "bio")


class Clinician(models.Model):
    name = models.CharField(_("name"), max_length=120)
    credentials = models.CharField(_("credentials"), max_length=120, blank=True, help_text=_("e.g. MD, psychiatrist"))
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("takes bookings"), default=True)
    bio = models.CharField(
        _("short bio"),
        max_length=600,
        blank=True,
        help_text=_("Shown on the home page as plain text (no HTML or Markdown): two or three sentences."),
    )
    shown_on_site = models.BooleanField(
        _("shown on the website"),
        default=False,
        help_text=_("In the care team on the home page, with name, credentials and bio (never e-mail or hours)."),
    )
    site_order = models.PositiveSmallIntegerField(
        _("order on the website"), default=0, help_text=_("Lower numbers come first; equal ones by name.")
    )
    # Annotated (a string: the field class is not subscriptable at run time) because django-stubs
    # cannot infer an M2M to a model named by a string.
    appointment_types: "models.ManyToManyField[AppointmentType, Any]" = models.ManyToManyField(
        "AppointmentType", related_name="clinicians", blank=True
    )

    objects = ClinicianQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def initials(self) -> str:
        """Up to two letters for the drawn photo placeholder: first and last name, honorifics left out."""
        words = [word for word in self.name.split() if word.rstrip(".").casefold() not in HONORIFICS]
        if not words:
            return ""
        return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


class AppointmentType(models.Model):
    class Mode(models.TextChoices):
        VIDEO = "video", _("Video")
        IN_PERSON = "in_person", _("In person")

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=100)
    what_to_expect = models.TextField(_("what to expect"), blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    buffer_before_minutes = models.PositiveSmallIntegerField(_("buffer before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"), default=0)
    recovery_minutes = models.PositiveSmallIntegerField(_("recovery (minutes)"), default=0)
    step_minutes = models.PositiveSmallIntegerField(_("start times every (minutes)"), default=15)
    min_notice_hours = models.PositiveSmallIntegerField(_("minimum notice (hours)"), default=12)
    horizon_days = models.PositiveSmallIntegerField(_("bookable up to (days ahead)"), default=60)
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(_("online changes until (hours before)"), default=24)
    fasting_food_minutes = models.PositiveSmallIntegerField(_("no food for (minutes before)"), null=True, blank=True)
    fasting_liquids_minutes = models.PositiveSmallIntegerField(
        _("no liquids for (minutes before)"), null=True, blank=True, help_text=_("Clear liquids are fine until then.")
    )
    ride_home_required = models.BooleanField(_("ride home required"), default=False)
    needs_approval = models.BooleanField(_("needs clinician approval"), default=False)
    requires_screening = models.BooleanField(
        _("needs a finished screening"),
        default=False,
        help_text=_(
            "Booked only from a submitted screening that does not rule the patient out, one open visit per screening."
        ),
    )
    active = models.BooleanField(_("bookable online"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="appointment_type_duration_positive"),
            models.CheckConstraint(condition=Q(step_minutes__gt=0), name="appointment_type_step_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class WorkingHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"), help_text=_("Clinic time"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["clinician", "weekday", "start"]
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="working_hours_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class TimeOff(models.Model):
    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = _("time off")
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="time_off_end_after_start")]

    def __str__(self) -> str:
        return f"{self.clinician}: {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"


class Patient(models.Model):
    full_name = models.CharField(_("full name"), max_length=150)
    # Unique among records kept as the patient's own (below); stored in lower case.
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=32)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    booking_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # A booking by somebody who typed this record's e-mail with other details and had not
    # proven the address: kept as its own record, pointing at the one whose e-mail it shares,
    # until staff sort it out (README, "Patients' records"). Anonymous input never rewrites a record.
    details_differ_from = models.ForeignKey(
        "self",
        verbose_name=_("details differ from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="differing_records",
    )
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)
    # The SPRAVATO REMS: an esketamine visit is booked and checked in only for an enrolled patient.
    rems_enrolled_on = models.DateField(_("REMS enrollment date"), null=True, blank=True)
    rems_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("REMS enrollment recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    rems_recorded_at = models.DateTimeField(_("REMS enrollment recorded"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("record_rems_enrollment", _("Can record a patient's REMS enrollment"))]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(details_differ_from__isnull=True, anonymised_at__isnull=True),
                name="patient_email_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Patient #{self.pk}"


MAX_PLAN_SESSIONS = 52
MAX_PLAN_SPACING_HOURS = 24 * 90


class TreatmentPlan(models.Model):
    """A clinician's approval of a course of treatment (SPEC: "an approval is a plan"): one
    treatment type, a number of sessions, a minimum spacing between them, given after a reviewed
    screening. The patient books within it; cancelled and no-show visits give their session back."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    appointment_type = models.ForeignKey(
        AppointmentType,
        verbose_name=_("treatment"),
        on_delete=models.PROTECT,
        related_name="treatment_plans",
        limit_choices_to={"needs_approval": True},
    )
    sessions = models.PositiveSmallIntegerField(
        _("sessions"), validators=[MinValueValidator(1), MaxValueValidator(MAX_PLAN_SESSIONS)]
    )
    min_hours_between = models.PositiveSmallIntegerField(
        _("minimum hours between sessions"), default=0, validators=[MaxValueValidator(MAX_PLAN_SPACING_HOURS)]
    )
    # The reviewed screening the approval rests on; empty only on approvals given before plans existed.
    screening = models.ForeignKey(
        "screening.Screening",
        verbose_name=_("screening"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treatment_plans",
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"))
    emailed_at = models.DateTimeField(_("booking link e-mailed"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_reason = models.CharField(_("why it ended"), max_length=500, blank=True)

    class Meta:
        ordering = ["-approved_at"]
        verbose_name = _("treatment plan")
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions__gte=1, sessions__lte=MAX_PLAN_SESSIONS), name="treatment_plan_sessions_range"
            ),
        ]
        indexes = [models.Index(fields=["patient", "appointment_type"])]

    def __str__(self) -> str:
        return f"Treatment plan #{self.pk}"


class PatientNote(models.Model):
    """A dated, signed note by staff on a patient's record; notes are added, never edited."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("staff note")

    def __str__(self) -> str:
        return f"Note #{self.pk}"


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status=Appointment.Status.CANCELLED)


class Appointment(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = visit_status.CONFIRMED, _("Confirmed")
        CANCELLED = visit_status.CANCELLED, _("Cancelled")
        COMPLETED = visit_status.COMPLETED, _("Completed")
        NO_SHOW = visit_status.NO_SHOW, _("No show")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # The clinician's time this visit holds: with the type's buffers and recovery, as booked.
    blocked_start = models.DateTimeField(editable=False)
    blocked_end = models.DateTimeField(editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    time_zone = models.CharField(_("patient's time zone"), max_length=64, default="America/New_York")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    screening = models.ForeignKey(
        "screening.Screening", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    treatment_plan = models.ForeignKey(
        TreatmentPlan,
        verbose_name=_("treatment plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    ride_confirmed_at = models.DateTimeField(_("ride home confirmed"), null=True, blank=True)
    video_room = models.CharField(max_length=64, unique=True, default=new_video_room, editable=False)
    # The calendar event's SEQUENCE (RFC 5545): raised by every move or cancel, so a patient's
    # calendar replaces the event it holds under the same UID.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        permissions = [
            # The manager's CSV of visits for a date range (booking/staff_views.py), without clinical data.
            ("export_visits", _("Can export visits as CSV")),
        ]
        indexes = [models.Index(fields=["clinician", "blocked_start", "blocked_end"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=models.F("start")) & Q(blocked_end__gte=models.F("end")),
                name="appointment_blocked_covers_visit",
            ),
            # No two active visits of one clinician overlap: on PostgreSQL also an exclusion
            # constraint (migration 0002), which settles races between concurrent bookings.
        ]

    def __str__(self) -> str:
        return f"Appointment #{self.pk}"

    @property
    def video_url(self) -> str:
        """The visit's own video room, or "" for an in-person visit or when no video service is set."""
        base = settings.VIDEO_ROOM_BASE_URL
        if not base or self.appointment_type.mode != AppointmentType.Mode.VIDEO:
            return ""
        return base.rstrip("/") + "/" + self.video_room
