"""Treatment plans: approved on a reviewed screening, e-mailed once, and booked within (sessions
counted down, spacing kept, nothing beyond)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, AppointmentType, Patient, TreatmentPlan
from screening.models import Outcome, Screening
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory, StaffUserFactory, approved_plan
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

IV = "iv-infusion"


def screening(*, reviewed=True, outcome=Outcome.ELIGIBLE, email="alex@example.org", **fields) -> Screening:
    now = timezone.now()
    defaults = {"full_name": "Alex Rivera", "phone": "5550100123", "submitted_at": now - timedelta(hours=2)}
    return Screening.objects.create(
        email=email,
        outcome=outcome,
        clinical_outcome=outcome,
        reviewed_at=now if reviewed else None,
        **{**defaults, **fields},
    )


def approve(on: Screening, *, slug=IV, sessions=6, hours=48, **extra) -> TreatmentPlan:
    return services.treatment_plan_approve(
        screening=on,
        appointment_type=AppointmentType.objects.get(slug=slug),
        sessions=sessions,
        min_hours_between=hours,
        note="Start low.",
        by=extra.pop("by", None) or StaffUserFactory(),
        **extra,
    )


def patient(email="alex@example.org") -> Patient:
    return Patient.objects.create(full_name="Alex Rivera", email=email, phone="5550100123")


class TestApproval:
    def test_a_plan_rests_on_a_reviewed_screening(self):
        with pytest.raises(services.PlanRefused, match="after the screening has been reviewed"):
            approve(screening(reviewed=False))
        with pytest.raises(services.PlanRefused, match="after the screening has been reviewed"):
            approve(screening(submitted_at=None, outcome=""))
        assert not TreatmentPlan.objects.exists() and mail.outbox == []

    def test_a_screening_that_rules_treatment_out_carries_no_plan(self):
        with pytest.raises(services.PlanRefused, match="not suitable"):
            approve(screening(outcome=Outcome.NOT_SUITABLE))

    def test_only_treatments_that_need_approval_have_plans(self):
        with pytest.raises(services.PlanRefused, match="need a clinician's approval"):
            approve(screening(), slug="consultation")

    def test_a_screening_whose_details_were_cleared_carries_no_plan_and_makes_no_empty_patient(self):
        cleared = screening(full_name="", email="", phone="")
        with pytest.raises(services.PlanRefused, match="no longer holds the patient's details"):
            approve(cleared)
        assert not Patient.objects.exists() and not TreatmentPlan.objects.exists() and mail.outbox == []

    @pytest.mark.parametrize(("sessions", "hours"), [(0, 48), (53, 48), (6, -1), (6, 2161)])
    def test_sessions_and_spacing_are_bounded(self, sessions, hours):
        with pytest.raises(services.PlanRefused, match="outside what a plan can hold"):
            approve(screening(), sessions=sessions, hours=hours)

    def test_the_plan_is_the_screened_patients_and_the_booking_link_goes_once(self, django_capture_on_commit_callbacks):
        reviewed = screening()
        clinician = StaffUserFactory()
        with django_capture_on_commit_callbacks(execute=True):
            plan = approve(reviewed, by=clinician)
        assert (plan.sessions, plan.min_hours_between, plan.approved_by, plan.screening) == (6, 48, clinician, reviewed)
        assert plan.patient.email == "alex@example.org" and plan.approved_at == timezone.now()
        [email] = mail.outbox
        assert email.to == ["alex@example.org"]
        assert email.subject == "You can now book your next appointments"  # no treatment named
        assert f"/book/?patient={plan.patient.booking_token}" in email.body
        plan.refresh_from_db()
        assert plan.emailed_at is not None
        assert services.treatment_approval_notify(plan_id=plan.pk) is False  # a second message sends nothing
        assert len(mail.outbox) == 1

    def test_the_patient_of_the_screenings_consultation_gets_the_plan(self):
        ClinicianFactory()
        reviewed = screening(email="other@example.org")
        consultation = book(None, clinic_time(8, 10))
        Appointment.objects.filter(pk=consultation.pk).update(screening=reviewed)
        assert approve(reviewed).patient == consultation.patient

    def test_details_typed_in_a_screening_never_rewrite_an_existing_record(self):
        existing = patient()
        plan = approve(screening(full_name="Someone Else"))
        assert plan.patient != existing and plan.patient.details_differ_from == existing
        existing.refresh_from_db()
        assert existing.full_name == "Alex Rivera"

    def test_one_open_plan_per_treatment(self):
        approve(screening())
        with pytest.raises(services.PlanRefused, match="already has an open plan"):
            approve(screening())
        services.treatment_plan_end(plan=TreatmentPlan.objects.get(), reason="Paused")
        assert approve(screening()).sessions == 6

    def test_a_booking_link_whose_message_was_lost_is_sent_by_the_sweep_once(self):
        """The broker keeps no copy of a message (settings: ack emulation off): the row says what is owed."""
        now = timezone.now()
        ages = [timedelta(minutes=3), timedelta(seconds=30), timedelta(hours=1), timedelta(days=8)]
        plans = [approved_plan(patient(f"p{n}@example.org"), IV) for n in range(4)]
        for plan, age in zip(plans, ages, strict=True):
            TreatmentPlan.objects.filter(pk=plan.pk).update(approved_at=now - age, emailed_at=None)
        TreatmentPlan.objects.filter(pk=plans[2].pk).update(emailed_at=now)  # sent
        assert services.missed_approvals_notify() == 1  # in flight (30 s) waits; 8 days: staff follow up by hand
        assert services.missed_approvals_notify() == 0
        assert [email.to for email in mail.outbox] == [["p0@example.org"]]


class TestBookingWithinAPlan:
    @pytest.fixture
    def clinician(self):
        return ClinicianFactory(offers=[IV], hours=[(day, "07:00", "19:00") for day in range(7)])

    def test_sessions_count_down_and_none_is_booked_beyond_the_plan(self, clinician):
        alex = patient()
        plan = approved_plan(alex, IV, sessions=2)
        book(clinician, clinic_time(10, 9), key="a", slug=IV, proven=alex)
        assert selectors.plan_sessions_left(plan) == 1
        book(clinician, clinic_time(11, 9), key="b", slug=IV, proven=alex)
        assert selectors.plan_sessions_left(plan) == 0
        with pytest.raises(services.PlanRefused, match="booked every session of your treatment plan"):
            book(clinician, clinic_time(12, 9), key="c", slug=IV, proven=alex)
        assert list(plan.visits.values_list("start", flat=True)) == [clinic_time(10, 9), clinic_time(11, 9)]

    @pytest.mark.parametrize("status", [Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW])
    def test_a_cancelled_or_missed_session_is_given_back(self, clinician, status):
        alex = patient()
        plan = approved_plan(alex, IV, sessions=1)
        first = book(clinician, clinic_time(10, 9), key="a", slug=IV, proven=alex)
        Appointment.objects.filter(pk=first.pk).update(status=status)
        assert selectors.plan_sessions_left(plan) == 1
        assert book(clinician, clinic_time(11, 9), key="b", slug=IV, proven=alex).treatment_plan == plan

    def test_a_completed_session_counts(self, clinician):
        alex = patient()
        plan = approved_plan(alex, IV, sessions=2)
        first = book(clinician, clinic_time(10, 9), key="a", slug=IV, proven=alex)
        Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.COMPLETED)
        assert selectors.plan_sessions_left(plan) == 1

    def test_sessions_keep_the_plans_spacing_exactly_allowed(self, clinician):
        alex = patient()
        approved_plan(alex, IV, sessions=6, min_hours_between=48)
        book(clinician, clinic_time(10, 9), key="a", slug=IV, proven=alex)
        with pytest.raises(services.PlanRefused) as refused:
            book(clinician, clinic_time(12, 8, 30), key="b", slug=IV, proven=alex)  # 47.5 h later
        assert "at least 48 hours between sessions" in str(refused.value)
        assert "Thursday, December 10 at 9:00 AM" in str(refused.value)  # in the patient's zone
        with pytest.raises(services.PlanRefused):
            book(clinician, clinic_time(9, 9), key="c", slug=IV, proven=alex)  # before it, too close too
        assert book(clinician, clinic_time(12, 9), key="d", slug=IV, proven=alex).start == clinic_time(12, 9)

    def test_a_move_keeps_the_spacing(self, clinician):
        alex = patient()
        approved_plan(alex, IV, sessions=6, min_hours_between=48)
        book(clinician, clinic_time(10, 9), key="a", slug=IV, proven=alex)
        second = book(clinician, clinic_time(14, 9), key="b", slug=IV, proven=alex)
        with pytest.raises(services.PlanRefused, match="48 hours"):
            services.appointment_reschedule(appointment=second, clinician_id=clinician.pk, start=clinic_time(11, 9))
        moved = services.appointment_reschedule(appointment=second, clinician_id=clinician.pk, start=clinic_time(12, 9))
        assert moved.start == clinic_time(12, 9)  # its own old time does not count against it

    def test_a_plan_for_another_treatment_or_an_ended_plan_books_nothing(self, clinician):
        alex = patient()
        approved_plan(alex, "esketamine-nasal")
        with pytest.raises(services.PlanRefused, match="after a clinician has approved it"):
            book(clinician, clinic_time(10, 9), slug=IV, proven=alex)
        services.treatment_plan_end(plan=approved_plan(alex, IV), reason="Stopped")
        with pytest.raises(services.PlanRefused, match="booked every session"):
            book(clinician, clinic_time(10, 9), slug=IV, proven=alex)
        assert not Appointment.objects.exists()

    def test_typed_details_alone_never_book_within_someones_plan(self, clinician):
        """The same name, e-mail and phone typed by anybody: the plan is booked only from the patient's link."""
        alex = patient()
        plan = approved_plan(alex, IV)
        with pytest.raises(services.PlanRefused, match="link in your plan's e-mail"):
            services.appointment_book(
                appointment_type=AppointmentType.objects.get(slug=IV),
                clinician_id=clinician.pk,
                start=clinic_time(10, 9),
                details=services.PatientDetails(alex.full_name, alex.email, alex.phone),
                time_zone="America/New_York",
                request_key="anonymous",
            )
        assert selectors.plan_sessions_left(plan) == plan.sessions


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_bookings_at_once_cannot_both_take_the_last_session(frozen_now):
    clinician = ClinicianFactory(offers=[IV], hours=[(day, "07:00", "19:00") for day in range(7)])
    alex = patient()
    plan = approved_plan(alex, IV, sessions=1)
    refused = []

    def attempt(hour: int):
        def run():
            try:
                book(clinician, clinic_time(10, hour), key=f"k{hour}", slug=IV, proven=Patient.objects.get(pk=alex.pk))
            except services.PlanRefused:
                refused.append(hour)

        return run

    work = iter([attempt(9), attempt(15)])
    run_at_once(lambda: next(work)(), 2)
    assert plan.visits.count() == 1 and len(refused) == 1


@pytest.mark.django_db(transaction=True)
def test_patients_approved_before_plans_keep_a_plan_with_their_visits_in_it():
    before, after = [("booking", "0015_reminders_moved_to_their_app")], [("booking", "0016_treatment_plans")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    patients = apps.get_model("booking", "Patient").objects
    approved_at = timezone.now() - timedelta(days=3)
    approved = patients.create(
        full_name="A",
        email="a@example.org",
        phone="1",
        approved_for_treatment_at=approved_at,
        approval_emailed_at=approved_at,
    )
    waiting = patients.create(full_name="W", email="w@example.org", phone="1")
    iv = apps.get_model("booking", "AppointmentType").objects.get(slug=IV)
    clinician = apps.get_model("booking", "Clinician").objects.create(name="Dr. Earlier")
    start = timezone.now() + timedelta(days=5)
    visit = apps.get_model("booking", "Appointment").objects.create(
        patient=approved,
        clinician=clinician,
        appointment_type=iv,
        start=start,
        end=start + timedelta(minutes=40),
        blocked_start=start,
        blocked_end=start + timedelta(minutes=100),
    )
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        plans = apps.get_model("booking", "TreatmentPlan").objects
        treatments = set(
            apps.get_model("booking", "AppointmentType")
            .objects.filter(needs_approval=True)
            .values_list("slug", flat=True)
        )
        assert set(plans.filter(patient_id=approved.pk).values_list("appointment_type__slug", flat=True)) == treatments
        iv_plan = plans.get(patient_id=approved.pk, appointment_type__slug=IV)
        assert (iv_plan.sessions, iv_plan.min_hours_between, iv_plan.approved_at, iv_plan.emailed_at) == (
            6, 0, approved_at, approved_at,
        )  # fmt: skip
        assert "check the number of sessions" in iv_plan.note  # a clinician sets them
        assert apps.get_model("booking", "Appointment").objects.get(pk=visit.pk).treatment_plan_id == iv_plan.pk
        assert not plans.filter(patient_id=waiting.pk).exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
