"""The roles again, now that the reminders' permissions belong to the reminders app."""

import importlib

from django.db import migrations

roles = importlib.import_module("staff.migrations.0001_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_roles"),
        ("booking", "0015_reminders_moved_to_their_app"),
    ]

    operations = [migrations.RunPython(roles.create_roles, migrations.RunPython.noop)]
