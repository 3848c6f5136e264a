from django.apps import AppConfig


class TelemedConfig(AppConfig):
    name = "telemed"
    verbose_name = "Site"

    def ready(self) -> None:
        from telemed import checks  # noqa: F401  (registers system checks)
        from telemed.celery import ensure_embedded_queue_dirs

        ensure_embedded_queue_dirs()
