"""The reminders' models, moved here from booking with their tables as they are: the models
change app in Django's state only (SeparateDatabaseAndState), no row is copied. Booking's
migration 0015 takes them out of booking's state, and moves their content types (and so the
permissions staff roles hold, and the audit trail's entries) to this app."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('booking', '0014_consultation_requires_screening'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='Reminder',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('confirmation', 'Confirmation'), ('preparation', 'Preparation (fasting, medicines, ride home)'), ('day_before', 'Day before'), ('follow_up', 'Follow-up check-in'), ('cancellation', 'Cancellation notice')], max_length=20, verbose_name='kind')),
                    ('due_at', models.DateTimeField(verbose_name='due')),
                    ('for_start', models.DateTimeField(editable=False)),
                    ('status', models.CharField(choices=[('pending', 'Waiting'), ('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Not needed')], default='pending', max_length=10, verbose_name='status')),
                    ('lease_until', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('claim', models.CharField(blank=True, editable=False, max_length=32)),
                    ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                    ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                    ('last_error', models.CharField(blank=True, max_length=500, verbose_name='last error')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('appointment', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='booking.appointment')),
                ],
                options={
                    'db_table': 'booking_reminder',
                    'ordering': ['due_at'],
                    'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['due_at'], name='reminder_due_pending'), models.Index(condition=models.Q(('status__in', ['queued', 'sending'])), fields=['lease_until'], name='reminder_lease_open')],
                    'constraints': [models.UniqueConstraint(fields=('appointment', 'kind'), name='reminder_one_per_kind')],
                },
            ),
            migrations.CreateModel(
                name='ReminderRule',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('confirmation', 'Confirmation'), ('preparation', 'Preparation (fasting, medicines, ride home)'), ('day_before', 'Day before'), ('follow_up', 'Follow-up check-in'), ('cancellation', 'Cancellation notice')], max_length=20, verbose_name='kind')),
                    ('offset_minutes', models.IntegerField(default=0, help_text="Counted in the patient's clock time. Negative means after the start: -1440 is the next day. Ignored for confirmations, which are sent at once.", verbose_name='minutes before the start')),
                    ('at_local_time', models.TimeField(blank=True, help_text="If set, sent at this time of day (patient's time zone) on the day the offset gives.", null=True, verbose_name='at clock time')),
                    ('appointment_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminder_rules', to='booking.appointmenttype')),
                ],
                options={
                    'db_table': 'booking_reminderrule',
                    'ordering': ['appointment_type', '-offset_minutes'],
                    'constraints': [models.UniqueConstraint(fields=('appointment_type', 'kind'), name='reminder_rule_one_per_kind')],
                },
            ),
            ],
            database_operations=[],
        ),
    ]
