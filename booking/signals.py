"""A change to what the slots are made of (a type's rules, who offers it, their hours) makes this
process forget the schedules it keeps (booking/selectors.py): at once, for its own next read, and
again after the commit, in case another thread read the old rows meanwhile. Other processes
re-read within SCHEDULE_RECHECK_SECONDS."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from booking import selectors
from booking.models import AppointmentType, Clinician, WorkingHours


def schedule_changed(**kwargs) -> None:
    selectors.forget_schedules()
    transaction.on_commit(selectors.forget_schedules)


def connect() -> None:
    for model in (AppointmentType, Clinician, WorkingHours):
        post_save.connect(schedule_changed, sender=model, dispatch_uid=f"schedule-saved-{model.__name__}")
        post_delete.connect(schedule_changed, sender=model, dispatch_uid=f"schedule-deleted-{model.__name__}")
    m2m_changed.connect(schedule_changed, sender=Clinician.appointment_types.through, dispatch_uid="schedule-offered")
