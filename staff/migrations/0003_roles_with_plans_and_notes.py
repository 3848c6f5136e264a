"""The roles again, with treatment plans and staff notes (and no more patient-wide approval)."""

import importlib

from django.db import migrations

roles = importlib.import_module("staff.migrations.0001_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_roles_after_reminders_moved"),
        ("booking", "0016_treatment_plans"),
        ("screening", "0004_review_decision"),
    ]

    operations = [migrations.RunPython(roles.create_roles, migrations.RunPython.noop)]
