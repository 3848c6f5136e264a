"""The shipped consultation keeps its screening gate as a flag, so renaming its slug in the admin keeps it."""

from django.db import migrations


def flag_consultation(apps, schema_editor):
    AppointmentType = apps.get_model("booking", "AppointmentType")
    AppointmentType.objects.filter(slug="consultation").update(requires_screening=True)


class Migration(migrations.Migration):
    dependencies = [("booking", "0013_appointment_type_requires_screening")]

    operations = [migrations.RunPython(flag_consultation, migrations.RunPython.noop)]
