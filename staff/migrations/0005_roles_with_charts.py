"""The roles again, with the session chart (treatment/) and the REMS enrollment."""

import importlib

from django.db import migrations

roles = importlib.import_module("staff.migrations.0001_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0004_roles_export"),
        ("booking", "0018_rems_enrollment"),
        ("treatment", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles.create_roles, migrations.RunPython.noop)]
