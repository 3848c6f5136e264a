from django.conf import settings
from django.core.management.base import BaseCommand

from staff.services import audit_entries_purge


class Command(BaseCommand):
    help = "Delete audit entries older than AUDIT_RETENTION_DAYS (the beat runs this daily)."

    def handle(self, *args, **options):
        deleted = audit_entries_purge()
        self.stdout.write(f"{deleted} audit entries older than {settings.AUDIT_RETENTION_DAYS} days deleted.")
