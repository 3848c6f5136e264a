"""Reminder and ReminderRule leave booking's state for the reminders app (its migration 0001);
their tables stay, rows and all. Their content types follow them, so the permissions groups
hold and the audit trail's entries stay attached to them."""

from django.db import migrations

MOVED = ["reminder", "reminderrule"]


def content_types_to_reminders(apps, schema_editor):
    _move_content_types(apps, "booking", "reminders")


def content_types_to_booking(apps, schema_editor):
    _move_content_types(apps, "reminders", "booking")


def _move_content_types(apps, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    log_entry = apps.get_model("auditlog", "LogEntry")
    for model in MOVED:
        moved = content_type.objects.filter(app_label=old, model=model).first()
        if moved is None:
            continue
        already = content_type.objects.filter(app_label=new, model=model).first()
        if already is None:
            moved.app_label = new
            moved.save(update_fields=["app_label"])
        else:  # both exist (permissions were created mid-migration on a new database): keep the entries
            log_entry.objects.filter(content_type=moved).update(content_type=already)
            moved.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0014_consultation_requires_screening"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auditlog", "0017_add_actor_email"),
        ("reminders", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="reminderrule",
                    name="appointment_type",
                ),
                migrations.DeleteModel(
                    name="Reminder",
                ),
                migrations.DeleteModel(
                    name="ReminderRule",
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_reminders, content_types_to_booking),
    ]
