from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "treatment"
    verbose_name = "Treatment sessions"
