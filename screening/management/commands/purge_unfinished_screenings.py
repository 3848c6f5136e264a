from django.core.management.base import BaseCommand

from screening.models import UNFINISHED_KEPT_DAYS
from screening.services import unfinished_screenings_purge


class Command(BaseCommand):
    help = f"Delete screenings left unfinished for more than {UNFINISHED_KEPT_DAYS} days."

    def handle(self, *args, **options):
        deleted = unfinished_screenings_purge()
        self.stdout.write(f"Deleted {deleted} unfinished screening(s).")
