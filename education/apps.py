from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EducationConfig(AppConfig):
    name = "education"
    verbose_name = _("Patient education")

    def ready(self) -> None:
        from education import signals  # noqa: F401  (connects the cache invalidation)
