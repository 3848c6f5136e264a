from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "demo-staff-password"  # noqa: S105 - development data only; refused when DEBUG is off


class Command(BaseCommand):
    help = "Load demonstration data for local development (idempotent; refused when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads demonstration data and only runs with DEBUG on.")
        user_model = get_user_model()
        staff, created = user_model.objects.get_or_create(
            username=DEMO_STAFF_USERNAME,
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "first_name": "Demo",
                "last_name": "Staff",
                "email": "staff@clinic.example.org",  # receives urgent-screening alerts (console e-mail)
            },
        )
        if created:
            staff.set_password(DEMO_STAFF_PASSWORD)
            staff.save(update_fields=["password"])
        self.stdout.write(
            f"Demo data ready. Staff login at /admin/: {DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}"
            + ("" if created else " (unchanged if you altered it)")
        )
