"""On PostgreSQL, make overlapping active visits of one clinician impossible in the database.

SQLite (development) has no exclusion constraints; there every write transaction takes the
database lock first (transaction_mode IMMEDIATE in settings), so the overlap check that the
booking service makes inside its transaction is serialized instead.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (clinician_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
