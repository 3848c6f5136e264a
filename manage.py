#!/usr/bin/env python
"""Django's command-line utility, with configuration mistakes reported in one line."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemed.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    except OperationalError as exc:
        # e.g. PostgreSQL not running or DATABASE_URL naming the wrong host or database.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(f"Cannot use the database named by DATABASE_URL: {first_line}")


if __name__ == "__main__":
    main()
