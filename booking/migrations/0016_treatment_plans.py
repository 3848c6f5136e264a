"""Treatment plans (SPEC: "an approval is a plan"), staff notes and check-in.

A patient approved before plans existed keeps what the approval allowed: a plan for each treatment
type that needs approval, 6 sessions and no minimum spacing, its note asking a clinician to set
both; the visits already booked of that type count against it."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MIGRATED_SESSIONS = 6
MIGRATED_NOTE = "Approved before treatment plans existed: check the number of sessions and the spacing."


def approvals_to_plans(apps, schema_editor):
    Patient = apps.get_model("booking", "Patient")
    AppointmentType = apps.get_model("booking", "AppointmentType")
    Appointment = apps.get_model("booking", "Appointment")
    TreatmentPlan = apps.get_model("booking", "TreatmentPlan")
    treatments = list(AppointmentType.objects.filter(needs_approval=True))
    for patient in Patient.objects.filter(approved_for_treatment_at__isnull=False):
        for treatment in treatments:
            visits = Appointment.objects.filter(patient=patient, appointment_type=treatment)
            booked = visits.exclude(status__in=["cancelled", "no_show"]).count()
            plan = TreatmentPlan.objects.create(
                patient=patient,
                appointment_type=treatment,
                sessions=min(max(MIGRATED_SESSIONS, booked), 52),
                min_hours_between=0,
                note=MIGRATED_NOTE,
                approved_by_id=patient.approved_by_id,
                approved_at=patient.approved_for_treatment_at,
                emailed_at=patient.approval_emailed_at,
            )
            visits.update(treatment_plan=plan)


def plans_to_approvals(apps, schema_editor):
    Patient = apps.get_model("booking", "Patient")
    TreatmentPlan = apps.get_model("booking", "TreatmentPlan")
    for plan in TreatmentPlan.objects.order_by("-approved_at"):  # the earliest is written last
        Patient.objects.filter(pk=plan.patient_id).update(
            approved_for_treatment_at=plan.approved_at,
            approved_by_id=plan.approved_by_id,
            approval_emailed_at=plan.emailed_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0015_reminders_moved_to_their_app"),
        ("screening", "0004_review_decision"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="checked_in_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="checked in"),
        ),
        migrations.CreateModel(
            name="PatientNote",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.TextField(max_length=2000, verbose_name="note")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="written")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="notes", to="booking.patient"
                    ),
                ),
            ],
            options={
                "verbose_name": "staff note",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="TreatmentPlan",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "sessions",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(52),
                        ],
                        verbose_name="sessions",
                    ),
                ),
                (
                    "min_hours_between",
                    models.PositiveSmallIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(2160)],
                        verbose_name="minimum hours between sessions",
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=2000, verbose_name="note")),
                ("approved_at", models.DateTimeField(verbose_name="approved")),
                (
                    "emailed_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="booking link e-mailed"),
                ),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended")),
                ("ended_reason", models.CharField(blank=True, max_length=500, verbose_name="why it ended")),
                (
                    "appointment_type",
                    models.ForeignKey(
                        limit_choices_to={"needs_approval": True},
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="treatment_plans",
                        to="booking.appointmenttype",
                        verbose_name="treatment",
                    ),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="approved by",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="treatment_plans",
                        to="booking.patient",
                    ),
                ),
                (
                    "screening",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="treatment_plans",
                        to="screening.screening",
                        verbose_name="screening",
                    ),
                ),
            ],
            options={
                "verbose_name": "treatment plan",
                "ordering": ["-approved_at"],
            },
        ),
        migrations.AddField(
            model_name="appointment",
            name="treatment_plan",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="visits",
                to="booking.treatmentplan",
                verbose_name="treatment plan",
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentplan",
            index=models.Index(fields=["patient", "appointment_type"], name="booking_tre_patient_687956_idx"),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.CheckConstraint(
                condition=models.Q(("sessions__gte", 1), ("sessions__lte", 52)), name="treatment_plan_sessions_range"
            ),
        ),
        migrations.RunPython(approvals_to_plans, plans_to_approvals),
        migrations.AlterModelOptions(
            name="patient",
            options={},
        ),
        migrations.RemoveField(
            model_name="patient",
            name="approval_emailed_at",
        ),
        migrations.RemoveField(
            model_name="patient",
            name="approved_by",
        ),
        migrations.RemoveField(
            model_name="patient",
            name="approved_for_treatment_at",
        ),
    ]
