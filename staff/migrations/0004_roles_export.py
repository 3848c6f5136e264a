"""The roles again, with the managers' CSV export of visits."""

import importlib

from django.db import migrations

roles = importlib.import_module("staff.migrations.0001_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0003_roles_with_plans_and_notes"),
        ("booking", "0017_export_visits"),
    ]

    operations = [migrations.RunPython(roles.create_roles, migrations.RunPython.noop)]
