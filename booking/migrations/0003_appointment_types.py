"""The clinic's appointment types (staff can edit them in the admin)."""

from django.db import migrations


def load(apps, schema_editor):
    from booking.defaults import load_appointment_types

    load_appointment_types(apps.get_model("booking", "AppointmentType"))


class Migration(migrations.Migration):
    dependencies = [("booking", "0002_no_double_booking")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
