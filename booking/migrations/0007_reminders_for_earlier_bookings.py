"""Visits booked before reminders existed get them too (their confirmation went out already)."""

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    from reminders import timing as reminders

    appointment_model = apps.get_model("booking", "Appointment")
    reminder_model = apps.get_model("booking", "Reminder")
    rule_model = apps.get_model("booking", "ReminderRule")
    now = timezone.now()
    rules = {}
    for rule in rule_model.objects.all():
        rules.setdefault(rule.appointment_type_id, []).append(
            reminders.Rule(rule.kind, rule.offset_minutes, rule.at_local_time)
        )
    rows = []
    for appointment in appointment_model.objects.filter(
        status="confirmed", start__gt=now, reminders__isnull=True
    ).iterator():
        for rule in rules.get(appointment.appointment_type_id, []):
            due = reminders.due_at(rule=rule, start=appointment.start, time_zone=appointment.time_zone, now=now)
            if due is None:
                continue
            sent = rule.kind == reminders.CONFIRMATION
            rows.append(
                reminder_model(
                    appointment=appointment,
                    kind=rule.kind,
                    due_at=due,
                    for_start=appointment.start,
                    status="sent" if sent else "pending",
                    sent_at=appointment.created_at if sent else None,
                )
            )
    reminder_model.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("booking", "0006_cancellation_notice")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
