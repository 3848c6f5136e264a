from django.core.management.base import BaseCommand

from telemed.retention import retention_apply


class Command(BaseCommand):
    help = (
        'Remove what the retention schedule says is no longer kept (README, "Retention"); the beat '
        "runs this daily. Prints counts only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be removed; change nothing.")

    def handle(self, *args, dry_run: bool, **options):
        counts = retention_apply(dry_run=dry_run)
        self.stdout.write("Dry run: nothing changed. Would clear:" if dry_run else "Cleared:")
        for category, count in counts.items():
            self.stdout.write(f"  {category.replace('_', ' ')}: {count}")
