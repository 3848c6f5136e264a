"""Retention (README, "Retention"): personal details the clinic has no reason to keep are
removed on a schedule, daily by the beat ("apply-retention") or by hand
(`python manage.py apply_retention [--dry-run]`).

- A submitted screening that led to no visit, RETENTION_UNBOOKED_SCREENING_DAYS after it was
  submitted: its answers, what was typed and the person's details are removed; its outcome,
  scores, bands, flags, reasons and dates stay, about nobody.
- A patient who never had a visit (every booking cancelled, nothing upcoming), and was never
  approved for treatment, RETENTION_PATIENT_WITHOUT_VISIT_DAYS after their last booking or
  cancellation: name, e-mail, phone and date of birth are blanked (`anonymised_at` set), with
  the reasons they gave for cancelling and the screenings those bookings came from.
- Sessions past their expiry are deleted.

Never touched: anything of a person who had or has a visit (completed, no-show, confirmed), a
medical record kept under the clinic's record-retention law; a screening linked to a visit of
such a person; an urgent screening no clinician has reviewed yet; unfinished screenings
(screening.services.unfinished_screenings_purge).

Rows change by queryset `.update()`, so django-auditlog's signals do not copy the removed values
into the trail. Instead each changed record gets one entry that names the fields removed (never
their values), and the values of those fields in its earlier entries are replaced by "(removed)"
(who, when and what action stay). Every pass is idempotent: a record already cleared matches no
rule again.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from booking.models import Appointment, Patient, TreatmentPlan
from screening.models import Screening

BATCH_SIZE = 500
REMOVED = "(removed)"  # in the audit trail, in place of a removed value

PATIENT_CLEARED = {"full_name": "", "email": "", "phone": "", "date_of_birth": None}
SCREENING_CLEARED: dict[str, object] = {**PATIENT_CLEARED, "region": "", "answers": {}}
APPOINTMENT_CLEARED = {"cancel_reason": ""}

# What each pass reports, in this order (the command prints them so).
CATEGORIES = (
    "unbooked_screenings",
    "patients_without_visit",
    "cancellation_reasons",
    "screenings_of_anonymised_patients",
    "audit_entries_redacted",
    "expired_sessions",
)


def retention_apply(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """One retention pass. Returns how many records of each category (CATEGORIES) it cleared or,
    with `dry_run`, would clear: then nothing changes. Each batch commits on its own, so a pass
    stopped half-way keeps what it did and the next one carries on."""
    now = now or timezone.now()
    counts = dict.fromkeys(CATEGORIES, 0)
    # Everything due is read before anything changes, so a dry run counts what a real pass does.
    unbooked = _ids(unbooked_screenings(now=now))
    patients = _ids(patients_without_visit(now=now))
    linked = _ids(screenings_of_anonymised_patients(now=now))

    for ids in _batches(unbooked, batch_size):
        done = _clear(_Batch(screenings=ids, rule="RETENTION_UNBOOKED_SCREENING_DAYS"), now=now, dry_run=dry_run)
        counts["unbooked_screenings"] += len(done.screenings)
        counts["audit_entries_redacted"] += done.redacted
    for ids in _batches(patients, batch_size):
        done = _clear(_Batch(patients=ids, rule="RETENTION_PATIENT_WITHOUT_VISIT_DAYS"), now=now, dry_run=dry_run)
        counts["patients_without_visit"] += len(done.patients)
        counts["cancellation_reasons"] += len(done.appointments)
        counts["audit_entries_redacted"] += done.redacted
    for ids in _batches(linked, batch_size):
        done = _clear(
            _Batch(screenings=ids, rule="RETENTION_PATIENT_WITHOUT_VISIT_DAYS", of_patients=True),
            now=now,
            dry_run=dry_run,
        )
        counts["screenings_of_anonymised_patients"] += len(done.screenings)
        counts["audit_entries_redacted"] += done.redacted
    counts["expired_sessions"] = _expired_sessions_delete(now=now, dry_run=dry_run)
    return counts


# --- What is due ------------------------------------------------------------------------


def _holding_details() -> Q:
    """A screening that still holds something the person gave (not yet cleared)."""
    return (
        ~Q(full_name="") | ~Q(email="") | ~Q(phone="") | Q(date_of_birth__isnull=False) | ~Q(region="") | ~Q(answers={})
    )


# An urgent screening waits for a clinician's review, whatever its age: staff must be able to
# reach the person (the same care as unfinished_before's for a safety answer).
REVIEW_OWED = Q(urgent=True, reviewed_at__isnull=True)


def unbooked_screenings(*, now: datetime) -> QuerySet:
    cutoff = now - timedelta(days=settings.RETENTION_UNBOOKED_SCREENING_DAYS)
    return (
        Screening.objects.submitted()
        .filter(submitted_at__lte=cutoff)
        .filter(~Exists(Appointment.objects.filter(screening=OuterRef("pk"))))
        .filter(_holding_details())
        .exclude(REVIEW_OWED)
    )


def patients_without_visit(*, now: datetime) -> QuerySet:
    """Never seen (every booking cancelled, or none), never approved for treatment, and nothing
    booked or cancelled within the period."""
    cutoff = now - timedelta(days=settings.RETENTION_PATIENT_WITHOUT_VISIT_DAYS)
    theirs = Appointment.objects.filter(patient=OuterRef("pk"))
    return Patient.objects.filter(
        ~Exists(Appointment.objects.active().filter(patient=OuterRef("pk"))),
        ~Exists(theirs.filter(Q(created_at__gt=cutoff) | Q(cancelled_at__gt=cutoff))),
        ~Exists(TreatmentPlan.objects.filter(patient=OuterRef("pk"))),
        anonymised_at__isnull=True,
        created_at__lte=cutoff,
    )


def screenings_of_anonymised_patients(*, now: datetime) -> QuerySet:
    """Screenings whose every booking belongs to a patient anonymised, or due to be: they would
    otherwise keep the very details removed from the patient."""
    bookings = Appointment.objects.filter(screening=OuterRef("pk"))
    kept = bookings.filter(patient__anonymised_at__isnull=True).exclude(patient__in=patients_without_visit(now=now))
    return Screening.objects.filter(Exists(bookings), ~Exists(kept)).filter(_holding_details()).exclude(REVIEW_OWED)


# --- Clearing -----------------------------------------------------------------------------


@dataclass
class _Batch:
    rule: str  # the setting whose period this is, named in the audit entries
    patients: list[int] = field(default_factory=list)
    screenings: list[int] = field(default_factory=list)
    appointments: list[int] = field(default_factory=list)  # those with a cancellation reason
    of_patients: bool = False
    redacted: int = 0


def _clear(batch: _Batch, *, now: datetime, dry_run: bool) -> _Batch:
    with transaction.atomic():
        if not dry_run:
            batch = _locked(batch, now=now)  # still due, now that its rows are held
        theirs = Appointment.objects.filter(patient_id__in=batch.patients)
        batch.appointments = _ids(theirs.exclude(cancel_reason=""))
        entries = _redacted_entries(batch, appointments=theirs)
        batch.redacted = len(entries)
        if dry_run:
            return batch
        Patient.objects.filter(pk__in=batch.patients).update(**PATIENT_CLEARED, anonymised_at=now)
        Appointment.objects.filter(pk__in=batch.appointments).update(**APPOINTMENT_CLEARED)
        Screening.objects.filter(pk__in=batch.screenings).update(**SCREENING_CLEARED, updated_at=now)
        LogEntry.objects.bulk_update(entries, ["changes", "changes_text", "serialized_data"])
        LogEntry.objects.bulk_create(_new_entries(batch, now=now))
    return batch


def _locked(batch: _Batch, *, now: datetime) -> _Batch:
    if batch.of_patients:
        due = screenings_of_anonymised_patients(now=now)
    else:
        due = unbooked_screenings(now=now)
    batch.patients = _ids(patients_without_visit(now=now).filter(pk__in=batch.patients).select_for_update())
    batch.screenings = _ids(due.filter(pk__in=batch.screenings).select_for_update())
    return batch


def _new_entries(batch: _Batch, *, now: datetime) -> list[LogEntry]:
    """One entry per record changed: which fields went, never what they held."""
    removed = {name: [REMOVED, ""] for name in PATIENT_CLEARED}
    changes = {
        Patient: ({"anonymised_at": [None, now.isoformat()], **removed}, batch.patients),
        Screening: ({name: [REMOVED, ""] for name in SCREENING_CLEARED}, batch.screenings),
        Appointment: ({"cancel_reason": [REMOVED, ""]}, batch.appointments),
    }
    cid = get_cid()
    return [
        LogEntry(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(pk),
            object_id=pk,
            object_repr=str(model(pk=pk)),
            action=LogEntry.Action.UPDATE,
            changes=fields,
            timestamp=now,
            cid=cid,
            additional_data={"retention": batch.rule},
        )
        for model, (fields, ids) in changes.items()
        for pk in ids
    ]


def _redacted_entries(batch: _Batch, *, appointments: QuerySet) -> list[LogEntry]:
    """The earlier entries of the batch's records that hold a value of a field being cleared,
    with those values replaced (for saving; unchanged entries are left out)."""
    if not (batch.patients or batch.screenings):
        return []
    patient_ct, screening_ct, appointment_ct = (
        ContentType.objects.get_for_model(model).pk for model in (Patient, Screening, Appointment)
    )
    fields = {
        patient_ct: set(PATIENT_CLEARED),
        screening_ct: set(SCREENING_CLEARED),
        appointment_ct: set(APPOINTMENT_CLEARED),
    }
    entries = LogEntry.objects.filter(
        Q(content_type_id=patient_ct, object_id__in=batch.patients)
        | Q(content_type_id=screening_ct, object_id__in=batch.screenings)
        | Q(content_type_id=appointment_ct, object_id__in=appointments.values("pk"))
    ).only("pk", "content_type_id", "changes", "changes_text", "serialized_data")
    return [entry for entry in entries if _redact(entry, fields[entry.content_type_id])]


def _redact(entry: LogEntry, names: set[str]) -> bool:
    """Replace the values of `names` in the entry; True if any was there."""
    changed = False
    if isinstance(entry.changes, dict):
        entry.changes, changed = _redact_changes(entry.changes, names)
    if entry.changes_text:  # written by older settings: JSON, or free text
        try:
            text, text_changed = _redact_changes(json.loads(entry.changes_text), names)
            entry.changes_text = json.dumps(text)
        except (ValueError, TypeError, AttributeError):
            text_changed = any(name in entry.changes_text for name in names)
            if text_changed:
                entry.changes_text = ""
        changed |= text_changed
    serialized = entry.serialized_data
    if isinstance(serialized, dict) and isinstance(serialized.get("fields"), dict):
        held = names & {name for name, value in serialized["fields"].items() if not _empty(value)}
        for name in held:
            serialized["fields"][name] = REMOVED
        changed |= bool(held)
    return changed


def _redact_changes(changes: dict, names: set[str]) -> tuple[dict, bool]:
    changed = False
    for name in names & changes.keys():
        values = changes[name]
        if isinstance(values, list):
            redacted = [value if _empty(value) or value == REMOVED else REMOVED for value in values]
            changed |= redacted != values
            changes[name] = redacted
    return changes, changed


def _empty(value) -> bool:
    return value in (None, "", "None", {}, "{}")


# --- Sessions -----------------------------------------------------------------------------


def _expired_sessions_delete(*, now: datetime, dry_run: bool) -> int:
    """Sessions past their expiry (SESSION_COOKIE_AGE, 8 h; the hourly clear_expired_sessions
    does the same). Sessions kept outside the database expire by themselves: 0 counted."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return 0
    expired = store.get_model_class().objects.filter(expire_date__lt=now)
    if dry_run:
        return expired.count()
    deleted, _by_model = expired.delete()
    return deleted


# --- Helpers ------------------------------------------------------------------------------


def _ids(queryset: QuerySet) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def _batches(ids: list[int], size: int):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
