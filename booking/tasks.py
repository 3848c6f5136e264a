from smtplib import SMTPException

from celery import shared_task

from booking.emails import approval_email, confirmation_email
from booking.models import Appointment, Patient


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=6)
def send_appointment_confirmation(appointment_id: int) -> None:
    appointment = (
        Appointment.objects.select_related("patient", "appointment_type", "clinician")
        .filter(pk=appointment_id, status=Appointment.Status.CONFIRMED)
        .first()
    )
    if appointment is not None:
        confirmation_email(appointment).send()


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=6)
def send_treatment_approval(patient_id: int) -> None:
    patient = Patient.objects.filter(pk=patient_id, approved_for_treatment_at__isnull=False).first()
    if patient is not None:
        approval_email(patient).send()
