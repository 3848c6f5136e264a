from django.db import migrations


def load(apps, schema_editor):
    from education.content_loader import load_content

    load_content(
        article_model=apps.get_model("education", "Article"),
        condition_model=apps.get_model("education", "Condition"),
        faq_model=apps.get_model("education", "FAQ"),
    )


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    # Reversing keeps the rows: staff may have edited them since.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
