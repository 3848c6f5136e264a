import datetime
import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, AppointmentType, Clinician, Patient, TimeOff, TreatmentPlan, WorkingHours
from screening.models import Outcome, ReviewDecision, Screening

# One demo login per staff role (staff/roles.py); none is a superuser. Development data only:
# seed_demo is refused when DEBUG is off.
DEMO_STAFF = [
    # username, password, role, first name, last name
    ("frontdesk", "demo-frontdesk-pass", "Front desk", "Riley", "Front Desk"),
    ("clinician", "demo-clinician-pass", "Clinician", "Maya", "Chen"),
    ("manager", "demo-manager-pass", "Manager", "Alex", "Manager"),
]
EARLIER_DEMO_SUPERUSER = "demo-staff"  # seeded by earlier versions; switched off

WEEKDAYS, MON_WED_FRI, TUE_TO_SAT = range(5), (0, 2, 4), range(1, 6)


def blocks(days, *spans: tuple[str, str]) -> list[tuple[int, str, str]]:
    """The same hours on each of the days; two spans make a lunch break."""
    return [(day, start, end) for day in days for start, end in spans]


# name, credentials, appointment types, weekly hours
CLINICIANS = [
    (
        "Dr. Maya Chen",
        "MD, psychiatrist",
        ["consultation", "follow-up", "esketamine-nasal"],
        blocks(WEEKDAYS, ("09:00", "12:00"), ("13:00", "17:00")),
    ),
    (
        "Dr. Sam Okafor",
        "MD, anesthesiologist",
        ["consultation", "iv-infusion"],
        blocks(MON_WED_FRI, ("08:00", "12:00"), ("13:00", "16:00")),
    ),
    (
        "Jordan Reyes",
        "PMHNP-BC, psychiatric nurse practitioner",
        ["consultation", "follow-up"],
        blocks(TUE_TO_SAT, ("10:00", "13:00"), ("14:00", "18:00")),
    ),
]


# The care team on the home page (booking.Clinician bio, shown on the site, order): demo people, demo words.
BIOS = {
    "Dr. Maya Chen": (
        "Maya is a psychiatrist who has cared for adults with long-lasting depression for over ten years. "
        "She leads our consultations and esketamine sessions, and likes to go through every option with you, "
        "ketamine or not."
    ),
    "Dr. Sam Okafor": (
        "Sam is an anesthesiologist. He oversees our infusions and the monitoring of blood pressure, breathing "
        "and comfort during every session and the recovery time afterwards."
    ),
    "Jordan Reyes": (
        "Jordan is a psychiatric nurse practitioner. Jordan holds many of our consultations and follow-ups, "
        "and keeps in touch with your own doctor or therapist when you want us to."
    ),
}


def demo_plan(*, email: str, treatment: AppointmentType, now: datetime.datetime) -> TreatmentPlan:
    """A reviewed screening and a 6-session plan, 48 hours apart, approved by the demo clinician."""
    patient = Patient.objects.get(email=email)
    clinician = get_user_model().objects.get(username="clinician")
    screening = Screening.objects.create(
        full_name=patient.full_name,
        email=patient.email,
        phone=patient.phone,
        phq9_total=14,
        phq9_band="moderate",
        gad7_total=9,
        gad7_band="mild",
        outcome=Outcome.ELIGIBLE,
        clinical_outcome=Outcome.ELIGIBLE,
        submitted_at=now - datetime.timedelta(days=3),
        reviewed_by=clinician,
        reviewed_at=now - datetime.timedelta(days=1),
        review_decision=ReviewDecision.PLAN,
        review_note="Demo review.",
    )
    return services.treatment_plan_approve(
        screening=screening,
        appointment_type=treatment,
        sessions=6,
        min_hours_between=48,
        note="Demo plan.",
        by=clinician,
        patient=patient,
        now=now,
    )


def demo_charted_session(*, plan: TreatmentPlan, now: datetime.datetime) -> None:
    """An esketamine session a week ago (the last weekday before that at 10:00), charted through to
    discharge at 125 minutes with readings in range, and signed: its REMS form is due."""
    from treatment import services as chart

    zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    day = timezone.localdate(now, zone) - datetime.timedelta(days=7)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(10), tzinfo=zone)
    end, blocked_start, blocked_end = services.visit_times(plan.appointment_type, start)
    visit = Appointment.objects.create(
        patient=plan.patient,
        treatment_plan=plan,
        clinician=Clinician.objects.get(name="Dr. Maya Chen"),
        appointment_type=plan.appointment_type,
        start=start,
        end=end,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
        time_zone=settings.CLINIC_TIME_ZONE,
        ride_confirmed_at=start - datetime.timedelta(days=1),
    )
    clinician = get_user_model().objects.get(username="clinician")
    minute = datetime.timedelta(minutes=1)
    dosed = start + 10 * minute
    record = chart.session_start(appointment=visit, by=clinician, at=start - 5 * minute)
    chart.checklist_update(
        record=record,
        by=clinician,
        fasted_since=start - 3 * 60 * minute,
        ride_driver_name="Sam Demo",
        ride_driver_phone="5550100199",
        takes_benzodiazepines=False,
        takes_sedative_hypnotics=False,
        takes_psychostimulants=False,
        takes_maois=False,
        now=start,
    )
    chart.administration_update(
        record=record,
        by=clinician,
        weight_kg=None,
        dose_mg=Decimal(56),
        route="intranasal",
        lot_number="DEMO-LOT-1",
        first_administration_at=dosed,
        now=dosed,
    )
    # Before, about 40 minutes after, and before discharge (the label's blood pressures), with a
    # transient mild dissociation in between.
    for minutes, systolic, diastolic, pulse, sedation, dissociation in (
        (-5, 128, 82, 72, 5, 0),
        (40, 142, 88, 78, 4, 1),
        (90, 132, 84, 74, 5, 0),
        (120, 126, 80, 70, 5, 0),
    ):
        at = dosed + minutes * minute
        chart.observation_add(
            record=record,
            by=clinician,
            at=at,
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=pulse,
            spo2=98,
            sedation=sedation,
            dissociation=dissociation,
            now=at,
        )
    discharged = dosed + 125 * minute
    chart.session_discharge(record=record, by=clinician, at=discharged, discharged_to="Sam Demo", now=discharged)
    chart.session_sign(record=record, by=clinician, ready_without_rule_minutes=90, now=discharged + 5 * minute)


class Command(BaseCommand):
    help = "Load demonstration data for local development (idempotent; refused when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads demonstration data and only runs with DEBUG on.")
        with transaction.atomic():
            self.staff()
            self.clinicians()
        self.stdout.write("Demo data ready. Staff sign in at /admin/ (one login per role, none a superuser):")
        for username, password, role, *_names in DEMO_STAFF:
            self.stdout.write(f"  {role + ':':12} {username} / {password}")
        if settings.OTP_REQUIRED:
            self.stdout.write("Two-factor sign-in is on: each login sets up an authenticator app at its first sign-in.")
        else:
            self.stdout.write(
                "Two-factor sign-in is off for this demo (OTP_REQUIRED defaults to on only when DEBUG is off);"
                " OTP_REQUIRED=1 make run turns it on."
            )

    def staff(self) -> None:
        users = get_user_model().objects
        for earlier in users.filter(username=EARLIER_DEMO_SUPERUSER, is_superuser=True):
            earlier.is_superuser = earlier.is_active = False
            earlier.save(update_fields=["is_superuser", "is_active"])
        for username, password, role, first_name, last_name in DEMO_STAFF:
            user, created = users.get_or_create(
                username=username,
                defaults={
                    "is_staff": True,
                    "first_name": first_name,
                    "last_name": last_name,
                    # Urgent-screening alerts go to every active staff e-mail (console e-mail here).
                    "email": f"{username}@clinic.example.org",
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get(name=role))

    def clinicians(self) -> None:
        zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
        for order, (name, credentials, type_slugs, weekly) in enumerate(CLINICIANS):
            clinician, created = Clinician.objects.get_or_create(name=name, defaults={"credentials": credentials})
            if not clinician.bio:  # demo data from before the care team gets its bio once; an edited one stays
                clinician.bio, clinician.shown_on_site, clinician.site_order = BIOS[name], True, order
                clinician.save(update_fields=["bio", "shown_on_site", "site_order"])
            if not created:
                continue
            clinician.appointment_types.set(AppointmentType.objects.filter(slug__in=type_slugs))
            WorkingHours.objects.bulk_create(
                WorkingHours(clinician=clinician, weekday=day, start=start, end=end) for day, start, end in weekly
            )
            next_week = timezone.localdate(timezone=zone) + datetime.timedelta(days=7)
            TimeOff.objects.create(
                clinician=clinician,
                start=datetime.datetime.combine(next_week, datetime.time(9), tzinfo=zone),
                end=datetime.datetime.combine(next_week, datetime.time(13), tzinfo=zone),
                reason="Training (demo)",
            )
        if Appointment.objects.exists():
            return
        consultation = AppointmentType.objects.get(slug="consultation")
        now = timezone.now()
        number = 0
        for slot in selectors.open_slots(
            appointment_type=consultation, window_start=now, window_end=now + datetime.timedelta(days=5), now=now
        )[::7]:
            if number == 6:
                break
            try:
                services.appointment_book(
                    appointment_type=consultation,
                    clinician_id=slot.clinician_id,
                    start=slot.start,
                    details=services.PatientDetails(
                        f"Demo Patient {number}", f"demo{number}@example.org", "5550100100"
                    ),
                    time_zone=settings.CLINIC_TIME_ZONE,
                    request_key=secrets.token_urlsafe(16),  # a known key would open the booking to anyone
                )
            except services.SlotTaken:  # an earlier demo visit of that clinician, with its buffers, covers it
                continue
            number += 1
        # One approved patient with an IV infusion booked: the preparation and ride-home reminders.
        infusion = AppointmentType.objects.get(slug="iv-infusion")
        demo_plan(email="demo0@example.org", treatment=infusion, now=now)
        first = selectors.open_slots(
            appointment_type=infusion, window_start=now, window_end=now + datetime.timedelta(days=14), now=now
        )[:1]
        for slot in first:
            services.appointment_book(
                appointment_type=infusion,
                clinician_id=slot.clinician_id,
                start=slot.start,
                details=services.PatientDetails("Demo Patient 0", "demo0@example.org", "5550100100"),
                time_zone=settings.CLINIC_TIME_ZONE,
                request_key=secrets.token_urlsafe(16),
                proven_patient=Patient.objects.get(email="demo0@example.org"),
            )
        # An esketamine patient enrolled in the SPRAVATO REMS: one session charted a week ago,
        # the next one booked.
        esketamine = AppointmentType.objects.get(slug="esketamine-nasal")
        if not Patient.objects.filter(email="demo1@example.org").exists():
            return
        plan = demo_plan(email="demo1@example.org", treatment=esketamine, now=now - datetime.timedelta(days=14))
        services.rems_enrollment_record(
            patient=plan.patient,
            enrolled_on=timezone.localdate(now) - datetime.timedelta(days=14),
            by=get_user_model().objects.get(username="clinician"),
        )
        demo_charted_session(plan=plan, now=now)
        for slot in selectors.open_slots(
            appointment_type=esketamine, window_start=now, window_end=now + datetime.timedelta(days=14), now=now
        )[:1]:
            services.appointment_book(
                appointment_type=esketamine,
                clinician_id=slot.clinician_id,
                start=slot.start,
                details=services.PatientDetails("Demo Patient 1", "demo1@example.org", "5550100100"),
                time_zone=settings.CLINIC_TIME_ZONE,
                request_key=secrets.token_urlsafe(16),
                proven_patient=plan.patient,
            )
