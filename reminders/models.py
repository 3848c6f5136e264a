"""A reminder's row and the rules that time them: the state of every e-mail owed to a patient
about a visit (SPEC, Reminders). The tables are booking's from before this app (migration
reminders 0001 moved the models, not the rows)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment, AppointmentType
from reminders import timing


class ReminderKind(models.TextChoices):
    """The kinds reminders/timing.py times, labelled for staff."""

    CONFIRMATION = timing.CONFIRMATION, _("Confirmation")
    PREPARATION = timing.PREPARATION, _("Preparation (fasting, medicines, ride home)")
    DAY_BEFORE = timing.DAY_BEFORE, _("Day before")
    FOLLOW_UP = timing.FOLLOW_UP, _("Follow-up check-in")
    CANCELLATION = timing.CANCELLATION, _("Cancellation notice")


class ReminderRule(models.Model):
    """When one kind of reminder is sent for one appointment type (staff edit these in the admin)."""

    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="reminder_rules")
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    offset_minutes = models.IntegerField(
        _("minutes before the start"),
        default=0,
        help_text=_(
            "Counted in the patient's clock time. Negative means after the start: -1440 is the next day. "
            "Ignored for confirmations, which are sent at once."
        ),
    )
    at_local_time = models.TimeField(
        _("at clock time"),
        null=True,
        blank=True,
        help_text=_("If set, sent at this time of day (patient's time zone) on the day the offset gives."),
    )

    class Meta:
        db_table = "booking_reminderrule"
        ordering = ["appointment_type", "-offset_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["appointment_type", "kind"], name="reminder_rule_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type}: {self.get_kind_display()}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Not needed")


class Reminder(models.Model):
    """One message to one patient about one appointment, sent at most once (see reminders/timing.py)."""

    Status = ReminderStatus

    # No index of its own: reminder_one_per_kind's index starts with it and serves the same
    # lookups, and each index is one more write in every status change (four per reminder sent).
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    due_at = models.DateTimeField(_("due"))
    # The visit time this row was worked out for: a moved visit gets its reminders again.
    for_start = models.DateTimeField(editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # A queued or sending row belongs to its task until then; afterwards the dispatcher takes it back.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "booking_reminder"
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "kind"], name="reminder_one_per_kind"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="reminder_due_pending",
                condition=Q(status=ReminderStatus.PENDING),
            ),
            models.Index(
                fields=["lease_until"],
                name="reminder_lease_open",
                condition=Q(status__in=[ReminderStatus.QUEUED, ReminderStatus.SENDING]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for appointment #{self.appointment_id}"
