import datetime

import factory
from django.contrib.auth import get_user_model


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example.org")
    is_staff = True
    password = factory.django.Password("correct-horse-battery-staple")


class ReviewedContentFactory(factory.django.DjangoModelFactory):
    published = True
    order = factory.Sequence(lambda n: n)
    reviewed_on = datetime.date(2026, 11, 1)
    reviewed_by = "Dr. Test Reviewer, MD"
    references = "Zarate CA Jr et al. Archives of General Psychiatry 2006;63:856–864."


class ArticleFactory(ReviewedContentFactory):
    class Meta:
        model = "education.Article"

    slug = factory.Sequence(lambda n: f"article-{n}")
    title = factory.Sequence(lambda n: f"Article number {n}")
    summary = "A short summary of the article."
    body = "## A heading\n\nSome **plain** text about ketamine therapy."
    category = "basics"


class ConditionFactory(ReviewedContentFactory):
    class Meta:
        model = "education.Condition"

    slug = factory.Sequence(lambda n: f"condition-{n}")
    name = factory.Sequence(lambda n: f"Condition number {n}")
    summary = "A short summary of the condition."
    body = "What research shows, in plain words."
    evidence_note = "Evidence is limited to small studies."


class FAQFactory(ReviewedContentFactory):
    class Meta:
        model = "education.FAQ"

    question = factory.Sequence(lambda n: f"Question number {n}?")
    answer = "An answer in plain words."


class ClinicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "booking.Clinician"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Dr. Clinician {n}")

    @factory.post_generation
    def offers(self, create, slugs, **kwargs):
        from booking.models import AppointmentType

        self.appointment_types.set(AppointmentType.objects.filter(slug__in=slugs or ["consultation", "follow-up"]))

    @factory.post_generation
    def hours(self, create, blocks, **kwargs):
        """Weekly hours: (weekday, "HH:MM", "HH:MM") blocks; by default 9–12 and 13–17 every day."""
        from booking.models import WorkingHours

        default = [(day, start, end) for day in range(7) for start, end in (("09:00", "12:00"), ("13:00", "17:00"))]
        WorkingHours.objects.bulk_create(
            WorkingHours(clinician=self, weekday=day, start=start, end=end) for day, start, end in blocks or default
        )


def staff_sign_in(client, user) -> None:
    """`user` signed in with both factors, as after the second step (the steps themselves: tests/staff/)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="Authenticator app", defaults={"confirmed": True}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def staff_with_role(role: str, **fields):
    """A staff member in one of the shipped roles (Front desk, Clinician, Manager)."""
    from django.contrib.auth.models import Group

    user = StaffUserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


REMS_ENROLLED_ON = datetime.date(2024, 1, 8)


def approved_plan(
    patient, slug: str, *, sessions: int = 52, min_hours_between: int = 0, by=None, rems_enrolled: bool = True
):
    """A treatment plan for `patient`, approved earlier on a reviewed screening and its booking link
    already e-mailed: the state in which a patient books treatment sessions. (The approval itself,
    with its e-mail, is tested through `treatment_plan_approve`.) For esketamine the patient is
    enrolled in the SPRAVATO REMS too, unless `rems_enrolled=False` (the gates: tests/treatment/)."""
    from django.utils import timezone

    from booking.models import AppointmentType, Patient, TreatmentPlan
    from screening.models import Outcome, ReviewDecision, Screening
    from treatment.rules import rules_for

    now = timezone.now()
    chart_rules = rules_for(slug)
    if rems_enrolled and chart_rules and chart_rules.rems and patient.rems_enrolled_on is None:
        patient.rems_enrolled_on = REMS_ENROLLED_ON
        Patient.objects.filter(pk=patient.pk).update(rems_enrolled_on=REMS_ENROLLED_ON)
    reviewer = by or StaffUserFactory()
    screening = Screening.objects.create(
        full_name=patient.full_name,
        email=patient.email,
        phone=patient.phone,
        outcome=Outcome.ELIGIBLE,
        clinical_outcome=Outcome.ELIGIBLE,
        submitted_at=now,
        reviewed_by=reviewer,
        reviewed_at=now,
        review_decision=ReviewDecision.PLAN,
    )
    return TreatmentPlan.objects.create(
        patient=patient,
        appointment_type=AppointmentType.objects.get(slug=slug),
        sessions=sessions,
        min_hours_between=min_hours_between,
        screening=screening,
        approved_by=reviewer,
        approved_at=now,
        emailed_at=now,
    )


def treatment_patient(details, slug: str, **plan):
    """The patient these booking details lead to, with an approved plan for the treatment `slug`."""
    from booking.services import patient_for_booking

    patient = patient_for_booking(details=details)
    approved_plan(patient, slug, **plan)
    return patient
