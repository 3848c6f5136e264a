"""System checks: a production site must reach its Redis (development falls back to embedded mode)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from telemed.health import broker_status
from telemed.preflight import service_problems


@register(Tags.caches)
def redis_reachable(app_configs, **kwargs):
    if settings.DEBUG or settings.CELERY_EMBEDDED:
        return []
    return [Error(problem, id="telemed.E001") for problem in service_problems({"broker": broker_status()})]


# E-mail backends that write each message, patients' names, addresses and links included, to
# the process's output or to files: for development only.
LOGGING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register(Tags.security, deploy=True)
def email_backend_sends(app_configs, **kwargs):
    if settings.DEBUG or settings.EMAIL_BACKEND not in LOGGING_EMAIL_BACKENDS:
        return []
    return [
        Error(
            "EMAIL_URL: this e-mail backend writes patients' e-mails to the log or to files; "
            "set EMAIL_URL to the clinic's SMTP server (smtp+tls://…) when DEBUG is off.",
            id="telemed.E002",
        )
    ]
