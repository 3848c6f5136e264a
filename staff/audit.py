"""The audit trail (django-auditlog): every change to the clinic's records, with who made it
and from where (AuditlogMiddleware), and every staff view of clinical data as an "access"
entry. Managers browse it in the admin; nobody changes or deletes an entry (only the retention
purge, staff/services.py)."""

from contextlib import contextmanager

from auditlog.cid import get_cid
from auditlog.context import auditlog_value, set_actor
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

from telemed.limits import client_address

# Never in the trail: tokens (they would let whoever reads the trail act as the patient),
# bookkeeping columns, and screening answers (in the screening itself, for those allowed).
TOKENS = ["token", "booking_token", "request_key", "video_room"]
SCREENING_TRACKED = [
    "outcome",
    "urgent",
    "submitted_at",
    "safety_flagged_at",
    "staff_alerted_at",
    "reviewed_by",
    "reviewed_at",
    "review_decision",
    "review_overdue_alerted_at",
]
REMINDER_TRACKED = ["kind", "due_at", "status", "attempts", "sent_at", "last_error"]


def register_models() -> None:
    from booking import models as booking
    from reminders.models import Reminder, ReminderRule
    from screening.models import Screening
    from treatment import models as treatment

    auditlog.register(booking.Patient, exclude_fields=TOKENS)
    auditlog.register(booking.Appointment, exclude_fields=[*TOKENS, "updated_at", "blocked_start", "blocked_end"])
    auditlog.register(booking.TreatmentPlan)
    auditlog.register(booking.PatientNote)
    auditlog.register(Reminder, include_fields=REMINDER_TRACKED)
    auditlog.register(Screening, include_fields=SCREENING_TRACKED)
    # The session chart: every field of every part, before and after.
    for chart_part in (
        treatment.SessionRecord,
        treatment.Observation,
        treatment.AdverseEvent,
        treatment.DischargeOverride,
        treatment.Addendum,
    ):
        auditlog.register(chart_part)
    # Scores are in the trail as a screening's are: that one was added or changed, by whom; not its value.
    auditlog.register(treatment.Measurement, exclude_fields=["answers", "score"])
    for model in (
        booking.Clinician,
        booking.WorkingHours,
        booking.TimeOff,
        booking.AppointmentType,
        ReminderRule,
    ):
        auditlog.register(model, m2m_fields={"appointment_types"} if model is booking.Clinician else set())
    # Who was given which role, and by whom.
    auditlog.register(
        get_user_model(),
        include_fields=["username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser"],
        m2m_fields={"groups", "user_permissions"},
    )
    auditlog.register(Group, m2m_fields={"permissions"})
    pre_save.connect(_password_change_recorded, sender=get_user_model(), dispatch_uid="audit-password-change")


def _password_change_recorded(sender, instance, update_fields=None, **kwargs) -> None:
    """A password set or changed (by its owner, or by a manager on a colleague's account) is in
    the trail, by whom and when; the hash itself never is."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if before is not None and before != instance.password:
        from staff.services import PASSWORD_CHANGED, account_change_queue

        record_change(instance, {"password": ["—", _("changed")]})
        account_change_queue(user_id=instance.pk, change=PASSWORD_CHANGED)


def record_access(obj, *, shown: str) -> LogEntry:
    """A staff member saw this record (`shown`: what of it, e.g. "screening answers"). The actor
    and the address come from the request (AuditlogMiddleware)."""
    return LogEntry.objects.log_create(
        obj, action=LogEntry.Action.ACCESS, force_log=True, additional_data={"shown": shown}
    )


def record_list_access(request, objects, *, shown: str) -> None:
    """A staff member saw these records in a list (`shown`: what of them, e.g. "screening
    scores"): an access entry each, written in one insert."""
    objects = list(objects)
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(objects[0])
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=content_type,
            object_pk=str(obj.pk),
            object_id=obj.pk,
            object_repr=str(obj),
            action=LogEntry.Action.ACCESS,
            actor=request.user,
            remote_addr=client_address(request),
            cid=get_cid(),
            additional_data={"shown": shown, "where": "list"},
        )
        for obj in objects
    )


def record_change(obj, changes: dict[str, list], *, actor=None) -> LogEntry:
    """A change the model's signals do not see (a bulk `.update()`, a related row): {field: [before, after]}."""
    extra = {"actor": actor} if actor is not None else {}
    return LogEntry.objects.log_create(obj, action=LogEntry.Action.UPDATE, changes=changes, **extra)


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (the actor and address of each entry written during a
    request), with the user looked up only when an entry is written: a patient's page that
    writes nothing loads no session for it; the address is the one the proxy saw."""

    @staticmethod
    def _get_remote_addr(request):
        """The address the clinic's proxy saw (telemed/limits.py), not the first X-Forwarded-For
        entry: the client writes that one, and a non-address there failed the entry's insert."""
        return client_address(request)

    @staticmethod
    def _get_actor(request):
        return getattr(request, "user", None)  # lazy; not a User for anonymous requests, so no actor


@contextmanager
def acting_as(user):
    """The changes saved inside are `user`'s in the trail: within a request the middleware's
    actor and address stay (its context is restored after), in a shell or a task it is `user`."""
    previous = auditlog_value.get(None)
    address = previous.get("remote_addr") if previous else None
    try:
        with set_actor(user, remote_addr=address):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)
