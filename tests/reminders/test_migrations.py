"""The reminders' models moved from booking to this app with their tables as they were: every row
stays, and so do the permissions staff roles hold and the audit trail's entries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("booking", "0014_consultation_requires_screening"), ("staff", "0001_roles"), ("reminders", None)]
AFTER = [("booking", "0015_reminders_moved_to_their_app"), ("staff", "0002_roles_after_reminders_moved")]
ALSO = [("auditlog", "0017_add_actor_email")]


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """The test winds the schema back; the tests after it need today's."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    nodes = [target for target in targets if target[1] is not None] + ALSO
    return MigrationExecutor(connection).loader.project_state(nodes).apps


@pytest.mark.django_db(transaction=True)
def test_the_reminders_rows_rules_permissions_and_audit_entries_survive_the_move():
    apps = migrate(BEFORE)
    appointment_type = apps.get_model("booking", "AppointmentType").objects.get(slug="iv-infusion")
    clinician = apps.get_model("booking", "Clinician").objects.create(name="Dr. Before")
    patient = apps.get_model("booking", "Patient").objects.create(full_name="P", email="p@example.org", phone="1")
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    visit = apps.get_model("booking", "Appointment").objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=appointment_type,
        start=start,
        end=start + timedelta(minutes=100),
        blocked_start=start,
        blocked_end=start + timedelta(minutes=100),
    )
    old_reminder = apps.get_model("booking", "Reminder")
    row = old_reminder.objects.create(
        appointment=visit, kind="preparation", due_at=start - timedelta(days=2), for_start=start, status="sent"
    )
    rules_before = sorted(
        apps.get_model("booking", "ReminderRule").objects.values_list("pk", "appointment_type_id", "kind")
    )
    content_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="booking", model="reminder"
    )[0]
    entry = apps.get_model("auditlog", "LogEntry").objects.create(
        content_type=content_type, object_pk=str(row.pk), object_id=row.pk, object_repr="r", action=1, changes={}
    )

    apps = migrate(AFTER)

    moved = apps.get_model("reminders", "Reminder").objects.get(pk=row.pk)
    assert (moved.appointment_id, moved.kind, moved.status, moved.for_start) == (visit.pk, "preparation", "sent", start)
    rules = apps.get_model("reminders", "ReminderRule").objects.values_list("pk", "appointment_type_id", "kind")
    assert rules_before and sorted(rules) == rules_before
    content_types = apps.get_model("contenttypes", "ContentType").objects
    assert not content_types.filter(app_label="booking", model__in=["reminder", "reminderrule"]).exists()
    entry = apps.get_model("auditlog", "LogEntry").objects.get(pk=entry.pk)
    assert (entry.content_type.app_label, entry.content_type.model) == ("reminders", "reminder")
    front_desk = apps.get_model("auth", "Group").objects.get(name="Front desk")
    held = set(front_desk.permissions.values_list("content_type__app_label", "codename"))
    assert {
        ("reminders", "view_reminder"),
        ("reminders", "change_reminder"),
        ("reminders", "view_reminderrule"),
    } <= held

    apps = migrate(BEFORE)  # and back: the rows are booking's again, untouched
    assert apps.get_model("booking", "Reminder").objects.get(pk=row.pk).status == "sent"
