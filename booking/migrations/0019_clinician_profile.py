from django.db import migrations, models


class Migration(migrations.Migration):
    """The care team on the home page: a short public bio, whether the clinician is shown, and the order."""

    dependencies = [
        ("booking", "0018_rems_enrollment"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinician",
            name="bio",
            field=models.CharField(
                blank=True,
                help_text="Shown on the home page as plain text (no HTML or Markdown): two or three sentences.",
                max_length=600,
                verbose_name="short bio",
            ),
        ),
        migrations.AddField(
            model_name="clinician",
            name="shown_on_site",
            field=models.BooleanField(
                default=False,
                help_text="In the care team on the home page, with name, credentials and bio (never e-mail or hours).",
                verbose_name="shown on the website",
            ),
        ),
        migrations.AddField(
            model_name="clinician",
            name="site_order",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Lower numbers come first; equal ones by name.",
                verbose_name="order on the website",
            ),
        ),
    ]
