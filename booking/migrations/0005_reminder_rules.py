"""The reminders of each appointment type (staff can edit them in the admin afterwards)."""

from django.db import migrations


def load(apps, schema_editor):
    from booking.defaults import load_reminder_rules

    reminder_rule = apps.get_model("booking", "ReminderRule")
    for appointment_type in apps.get_model("booking", "AppointmentType").objects.all():
        load_reminder_rules(appointment_type, reminder_rule)


class Migration(migrations.Migration):
    dependencies = [("booking", "0004_reminders")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
