from django.db import migrations, models
from django.db.models import F


def flagged_when_submitted(apps, schema_editor):
    """Urgent screenings from before this field were flagged on submission: the alert sweep reads it."""
    Screening = apps.get_model("screening", "Screening")
    Screening.objects.filter(urgent=True, safety_flagged_at__isnull=True).update(safety_flagged_at=F("submitted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="screening",
            name="safety_flagged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="safety answer given"),
        ),
        migrations.RunPython(flagged_when_submitted, migrations.RunPython.noop),
    ]
