"""Retention (telemed/retention.py; README, "Retention"): what goes after its period and not a
day before, what is never touched, and that nothing removed survives in the audit trail."""

import io
import json
from datetime import timedelta

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import services
from booking.models import Appointment, AppointmentType, Patient
from screening.models import Screening
from screening.services import screening_review, screening_step_save
from screening.steps import STEPS_BY_SLUG
from telemed.retention import CATEGORIES, retention_apply
from telemed.tasks import apply_retention
from tests.booking.conftest import NOW, clinic_time, frozen_now  # noqa: F401 - the booking tests' clock
from tests.factories import ClinicianFactory, StaffUserFactory
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

# What the people in these tests typed: none of it may be left anywhere once it is due to go.
NAME, EMAIL, PHONE, REASON = "Robin Quill", "robin.quill@example.org", "5550107777", "Dana, my sister, is unwell"
SCREENED_NAME, SCREENED_EMAIL = "Alex Rivera", "alex@example.org"  # tests/screening/personas.py


def days(n: float):
    return NOW + timedelta(days=n)


def visit(start, *, n: int = 1, screening=None, key=None) -> Appointment:
    """A consultation for person `n` (the first is Robin Quill), with a clinician of its own."""
    details = (
        services.PatientDetails(NAME, EMAIL, PHONE)
        if n == 1
        else services.PatientDetails(f"Person {n}", f"person{n}@example.org", f"555010{n:04d}")
    )
    return services.appointment_book(
        appointment_type=AppointmentType.objects.get(slug="consultation"),
        clinician_id=ClinicianFactory().pk,
        start=start,
        details=details,
        time_zone="America/New_York",
        request_key=key or f"{n}-{start.isoformat()}",
        screening=screening,
    )


def cancelled(appointment: Appointment, *, at=None) -> Appointment:
    return services.appointment_cancel(appointment=appointment, reason=REASON, by_staff=True, now=at)


def held(appointment: Appointment, status=Appointment.Status.COMPLETED) -> Appointment:
    Appointment.objects.filter(pk=appointment.pk).update(status=status)
    return appointment


def expired_session() -> str:
    session = SessionStore()
    session["booking-details"] = {"full_name": NAME}
    session.create()
    Session.objects.filter(pk=session.session_key).update(expire_date=NOW - timedelta(minutes=1))
    return session.session_key


def nothing() -> dict[str, int]:
    return dict.fromkeys(CATEGORIES, 0)


def cleared(counts: dict[str, int]) -> dict[str, int]:
    """What a pass cleared, without the audit entries it redacted (counted where they matter)."""
    return {category: count for category, count in counts.items() if count and category != "audit_entries_redacted"}


def screening_kept(screening: Screening) -> bool:
    screening.refresh_from_db()
    return screening.full_name == SCREENED_NAME and screening.email == SCREENED_EMAIL and bool(screening.answers)


def one_of_each() -> dict:
    """Something due in every category at days(365)."""
    linked = submitted_screening(personas.ELIGIBLE)
    return {
        "unbooked": submitted_screening(personas.ELIGIBLE),
        "visit": cancelled(visit(clinic_time(8, 10), screening=linked)),
        "linked": linked,
        "session": expired_session(),
    }


def test_an_unbooked_screening_loses_answers_and_details_after_its_period_not_a_day_before():
    screening = submitted_screening(personas.ELIGIBLE)
    kept = Screening.objects.values("outcome", "phq9_total", "phq9_band", "gad7_total", "flags", "submitted_at")

    assert retention_apply(now=days(179)) == nothing()
    assert screening_kept(screening)
    before = kept.get(pk=screening.pk)

    assert cleared(retention_apply(now=days(180))) == dict(unbooked_screenings=1)
    screening.refresh_from_db()
    assert (screening.full_name, screening.email, screening.phone, screening.date_of_birth, screening.region) == (
        "",
        "",
        "",
        None,
        "",
    )
    assert screening.answers == {}
    assert kept.get(pk=screening.pk) == before  # outcome, scores, flags and dates stay
    assert before["outcome"] == "eligible" and before["phq9_total"] is not None


def test_the_periods_are_the_settings(settings):
    settings.RETENTION_UNBOOKED_SCREENING_DAYS = 30
    settings.RETENTION_PATIENT_WITHOUT_VISIT_DAYS = 60
    screening = submitted_screening(personas.ELIGIBLE)
    cancelled(visit(clinic_time(8, 10)))
    assert retention_apply(now=days(29)) == nothing()
    assert cleared(retention_apply(now=days(30))) == dict(unbooked_screenings=1)
    assert not screening_kept(screening)
    assert cleared(retention_apply(now=days(60))) == dict(patients_without_visit=1, cancellation_reasons=1)


def test_a_patient_without_visit_is_anonymised_a_period_after_the_last_cancellation_not_a_day_before():
    booked = visit(clinic_time(30, 10))
    cancelled(booked, at=days(10))  # the period runs from here, not from the booking

    assert retention_apply(now=days(374)) == nothing()
    patient = Patient.objects.get()
    assert (patient.full_name, patient.email, patient.anonymised_at) == (NAME, EMAIL, None)

    assert cleared(retention_apply(now=days(375))) == dict(patients_without_visit=1, cancellation_reasons=1)
    patient.refresh_from_db()
    assert (patient.full_name, patient.email, patient.phone, patient.date_of_birth) == ("", "", "", None)
    assert patient.anonymised_at == days(375)
    booked.refresh_from_db()
    assert (booked.cancel_reason, booked.status, booked.start) == (
        "",
        Appointment.Status.CANCELLED,
        clinic_time(30, 10),
    )

    # The same person booking again gets a record of their own, with nothing of the old one.
    again = visit(clinic_time(9, 10), key="again")
    assert again.patient_id != patient.pk and again.patient.full_name == NAME


def test_visits_held_or_upcoming_keep_the_patient_and_their_screening(settings):
    settings.RETENTION_UNBOOKED_SCREENING_DAYS = 1
    settings.RETENTION_PATIENT_WITHOUT_VISIT_DAYS = 1
    seen = submitted_screening(personas.ELIGIBLE)
    held(visit(clinic_time(8, 10), n=1, screening=seen))
    cancelled(visit(clinic_time(8, 11), n=1))  # the same patient's cancelled visit changes nothing
    held(visit(clinic_time(8, 13), n=2), Appointment.Status.NO_SHOW)
    cancelled(visit(clinic_time(8, 14), n=3))
    upcoming_screening = submitted_screening(personas.ELIGIBLE)
    visit(clinic_time(30, 10), n=3, screening=upcoming_screening)  # still ahead at days(2)
    before = list(Patient.objects.order_by("pk").values("full_name", "email", "phone", "anonymised_at"))

    assert retention_apply(now=days(2)) == nothing()
    assert list(Patient.objects.order_by("pk").values("full_name", "email", "phone", "anonymised_at")) == before
    assert screening_kept(seen) and screening_kept(upcoming_screening)
    assert Appointment.objects.filter(cancel_reason=REASON).count() == 2


def test_unfinished_and_unreviewed_urgent_screenings_are_left_alone():
    form = STEPS_BY_SLUG["about"].form_class(personas.about())
    assert form.is_valid()
    draft = screening_step_save(screening=None, step="about", cleaned=form.cleaned_data, typed={})
    urgent = submitted_screening(personas.URGENT)

    assert retention_apply(now=days(400)) == nothing()
    draft.refresh_from_db()
    assert draft.full_name == SCREENED_NAME  # the unfinished-screening purge deletes drafts, not this
    assert screening_kept(urgent)

    screening_review(screening=urgent, by=StaffUserFactory(), decision="contacted", note="Called; has support.")
    assert cleared(retention_apply(now=days(400))) == dict(unbooked_screenings=1)
    assert not screening_kept(urgent)
    assert urgent.outcome == "urgent" and urgent.urgent


def test_the_screening_behind_an_anonymised_patients_bookings_goes_with_them():
    screening = submitted_screening(personas.ELIGIBLE)
    cancelled(visit(clinic_time(8, 10), screening=screening))

    assert retention_apply(now=days(200)) == nothing()  # it led to a booking: not "unbooked"
    assert screening_kept(screening)
    assert cleared(retention_apply(now=days(365))) == dict(
        patients_without_visit=1, cancellation_reasons=1, screenings_of_anonymised_patients=1
    )
    assert not screening_kept(screening)
    assert (screening.answers, screening.outcome) == ({}, "eligible")


def audit_trail() -> str:
    return json.dumps(
        list(
            LogEntry.objects.values_list("object_repr", "changes", "changes_text", "serialized_data", "additional_data")
        ),
        default=str,
    )


def test_no_removed_value_is_left_in_the_audit_trail():
    staff = StaffUserFactory()
    things = one_of_each()
    patient = things["visit"].patient
    with set_actor(staff):
        patient.phone, patient.date_of_birth = "5550108888", NOW.date().replace(year=1980)
        patient.save()
    trail = audit_trail()
    for value in (NAME, EMAIL, PHONE, "5550108888", "1980-", REASON):
        assert value in trail  # the trail held them, or this test could not fail
    earlier = LogEntry.objects.get_for_object(patient).count()

    counts = retention_apply(now=days(365))

    trail = audit_trail()
    for value in (NAME, EMAIL, PHONE, "5550108888", "1980-", REASON, SCREENED_NAME, SCREENED_EMAIL):
        assert value not in trail
    # Who changed what, and when, stays; the values are gone.
    edit = LogEntry.objects.get_for_object(patient).get(actor=staff)
    assert edit.changes["phone"] == ["(removed)", "(removed)"] and edit.timestamp == NOW
    assert counts["audit_entries_redacted"] >= 3  # the patient's creation and edit, the cancellation
    # One entry says the record was anonymised, by the retention rule, and no value.
    entries = LogEntry.objects.get_for_object(patient).order_by("pk")
    assert entries.count() == earlier + 1
    last = entries.last()
    assert last.changes["anonymised_at"] == [None, days(365).isoformat()]
    assert last.additional_data == {"retention": "RETENTION_PATIENT_WITHOUT_VISIT_DAYS"}
    assert (last.actor, last.timestamp) == (None, days(365))
    for screening in (things["unbooked"], things["linked"]):
        assert LogEntry.objects.get_for_object(screening).filter(changes__answers=["(removed)", ""]).count() == 1


def test_a_dry_run_changes_nothing_and_counts_what_the_pass_then_does():
    one_of_each()

    def everything():
        return [
            list(model.objects.order_by("pk").values())
            for model in (Patient, Appointment, Screening, LogEntry, Session)
        ]

    before = everything()
    dry = retention_apply(now=days(365), dry_run=True)
    assert everything() == before
    assert dry == retention_apply(now=days(365))
    assert {category: dry[category] for category in CATEGORIES if category != "audit_entries_redacted"} == {
        "unbooked_screenings": 1,
        "patients_without_visit": 1,
        "cancellation_reasons": 1,
        "screenings_of_anonymised_patients": 1,
        "expired_sessions": 1,
    }
    assert dry["audit_entries_redacted"] > 0
    assert everything() != before
    # Idempotent: the next day's pass finds nothing more.
    assert retention_apply(now=days(366)) == nothing()
    assert retention_apply(now=days(366), dry_run=True) == nothing()


def test_expired_sessions_go_and_live_ones_stay():
    expired = expired_session()
    live = SessionStore()
    live["booking-details"] = {"full_name": NAME}
    live.create()
    assert cleared(retention_apply(now=NOW)) == dict(expired_sessions=1)
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert expired != live.session_key


def test_a_pass_takes_as_many_queries_for_many_records_as_for_one():
    one_of_each()
    with CaptureQueriesContext(connection) as one:
        retention_apply(now=days(365))
    for n, hour in enumerate((9, 11, 13, 14, 15), start=2):
        linked = submitted_screening(personas.ELIGIBLE)
        submitted_screening(personas.ELIGIBLE)
        cancelled(visit(clinic_time(8, hour), n=n, screening=linked))
        expired_session()
    with CaptureQueriesContext(connection) as many:
        counts = retention_apply(now=days(365))
    assert counts["patients_without_visit"] == counts["unbooked_screenings"] == 5
    assert len(many) == len(one)
    assert len(one) <= 30, [q["sql"][:80] for q in one.captured_queries]


def test_the_command_prints_counts_and_nothing_personal():
    screening = submitted_screening(personas.ELIGIBLE)
    out = io.StringIO()
    with time_machine.travel(days(181), tick=False):
        call_command("apply_retention", "--dry-run", stdout=out)
        assert screening_kept(screening)
        call_command("apply_retention", stdout=out)
    printed = out.getvalue()
    assert printed.startswith("Dry run: nothing changed. Would clear:\n  unbooked screenings: 1\n")
    assert "Cleared:\n  unbooked screenings: 1\n" in printed
    assert SCREENED_NAME not in printed and SCREENED_EMAIL not in printed
    assert not screening_kept(screening)


def test_the_daily_beat_task_runs_the_same_pass():
    assert settings.CELERY_BEAT_SCHEDULE["apply-retention"]["task"] == apply_retention.name
    screening = submitted_screening(personas.ELIGIBLE)
    with time_machine.travel(days(181), tick=False):
        assert cleared(apply_retention.apply().get()) == dict(unbooked_screenings=1)
    assert not screening_kept(screening)


def test_a_pass_in_small_batches_clears_everything_due():
    screenings = [submitted_screening(personas.ELIGIBLE) for _ in range(3)]
    assert cleared(retention_apply(now=days(180), batch_size=2)) == {"unbooked_screenings": 3}
    assert not any(screening_kept(screening) for screening in screenings)
