"""Each visit gets its own video room and a calendar SEQUENCE; the clinician's fixed room goes.

A fixed room per clinician let any past patient join a later patient's call. Rooms are drawn per
row here: a column default would give every existing visit the same one.
"""

from django.db import migrations, models

import booking.models


def draw_rooms(apps, schema_editor):
    Appointment = apps.get_model("booking", "Appointment")
    for appointment in Appointment.objects.filter(video_room="").only("pk").iterator():
        Appointment.objects.filter(pk=appointment.pk).update(video_room=booking.models.new_video_room())


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0009_reminder_appointment_index_in_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="sequence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="appointment",
            name="video_room",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(draw_rooms, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment",
            name="video_room",
            field=models.CharField(default=booking.models.new_video_room, editable=False, max_length=64, unique=True),
        ),
        migrations.RemoveField(
            model_name="clinician",
            name="video_room_url",
        ),
    ]
