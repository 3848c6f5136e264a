from django.core.management.base import BaseCommand

from reminders.services import reminders_dispatch


class Command(BaseCommand):
    help = "Queue every due reminder for the Celery workers (one pass of the every-minute beat task)."

    def handle(self, *args, **options):
        count = reminders_dispatch()
        self.stdout.write(f"{count} reminder(s) queued.")
