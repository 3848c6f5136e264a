"""Settings for the telemed project, read from the environment (django-environ).

With nothing set the site runs for development: DEBUG on, SQLite under the project,
console e-mail and "embedded" Celery (a filesystem broker, no Redis). With DEBUG off it
refuses to start on an insecure or missing setting. The README documents every variable.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))  # embedded-mode runtime files; never committed

DEBUG = env.bool("DEBUG", default=True)

# --- Secrets and hosts -------------------------------------------------------------
DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"  # noqa: S105 - development only; refused when DEBUG is off
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    # Mirrors Django's own deploy check (security.W009) so production fails at start-up.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
        )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list this site's host names (comma-separated, no '*') when DEBUG is off."
        )

SITE_URL = env.str(
    "SITE_URL",
    default="http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0].lstrip('.')}",
).rstrip("/")
if not DEBUG and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must start with https:// when DEBUG is off.")

# --- Applications --------------------------------------------------------------------
INSTALLED_APPS = [
    "staff.apps.ClinicAdminConfig",  # django.contrib.admin with the clinic's site (staff/sites.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "auditlog",
    "django_ratelimit",
    "telemed",
    "staff",
    "education",
    "screening",
    "booking",
    "reminders",
    "treatment",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff.sessions.StaffSessionMiddleware",
    "staff.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "telemed.urls"
WSGI_APPLICATION = "telemed.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telemed.context_processors.clinic",
                "telemed.context_processors.navigation",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db_scheme = urlsplit(DATABASE_URL).scheme
if _db_scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
    # Never echo the URL itself: it may carry a password.
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:// (it starts with {_db_scheme or 'nothing'}://)."
    )
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if _db_scheme == "sqlite":
    # The web process and the Celery worker share the file: wait for locks instead of failing,
    # and take the write lock at the start of a transaction so two writers cannot deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache --------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss"}:
    raise ImproperlyConfigured("REDIS_URL must start with redis:// or rediss://.")
CELERY_EMBEDDED = not REDIS_URL

if REDIS_URL:
    # django-redis keeps one client per process; Django's own backend builds a new redis-py
    # client for every operation, which costs more than the cached page it fetches.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="telemed"),
            "TIMEOUT": 300,
            # Redis down: a cache error is a miss (pages render from the database), logged
            # once a minute by telemed/logs.py, and a short timeout keeps a hung Redis from
            # holding a page for long.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "telemed.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # django-ratelimit wants a cache every web process shares: embedded mode serves from one
    # process (`make run`), whose memory is that cache.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Celery (namespace CELERY, read by telemed/celery.py) --------------------------
if CELERY_EMBEDDED:
    # No Redis: a real Celery worker and beat still run, passing messages through files
    # under var/celery/ (kombu's filesystem transport). For one machine only.
    CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
else:
    CELERY_BROKER_URL = REDIS_URL
    # Redis carries hints; the database is the record of what is owed. Every task can be lost
    # without loss to anyone: a reminder's row is queued again when its lease lapses, an urgent
    # alert or a booking-link e-mail is found again by a beat sweep (not yet sent, per its row),
    # the beat's own tasks come round again. So Redis is not asked to keep a copy of each message
    # until it is acknowledged (kombu's ack emulation): that bookkeeping cost two Redis round trips
    # per message and nearly halved how many tasks a worker ran per second (bench/README.md). A
    # Redis that restarts without persistence loses its queue whatever this says.
    # A Redis that hangs (holds the connection, never answers) must not hold a page: a publish
    # gives up after these seconds and the database keeps what is owed (telemed/queueing.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": False, "socket_timeout": 3, "socket_connect_timeout": 0.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks change state in the database; nobody waits on a result
# Acknowledge after the task, and hand back a task whose pool process died: this gives redelivery
# with the embedded (filesystem) broker; with Redis no copy is kept (above) and the database's
# leases and sweeps bring a lost task back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60)  # seconds; the worker kills the task then
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 10, 1)
CELERY_ENABLE_UTC = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless told to reuse
# it: reuse (a fresh connection every 1,000 tasks), with CONN_MAX_AGE and the health checks
# applied around each task by telemed/celery.py.
CELERY_DB_REUSE_MAX = 1000
# The static schedule of periodic tasks; later features add their entries here.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-reminders": {
        "task": "reminders.tasks.dispatch_due_reminders",
        "schedule": 60,
        "options": {"expires": 55},  # a tick that waited a minute is replaced by the next one
    },
    # Notifications whose message was lost: the database says what is still owed.
    "alert-missed-urgent-screenings": {
        "task": "screening.tasks.alert_staff_of_missed_urgent_screenings",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "alert-missed-check-in-safety-answers": {
        "task": "treatment.tasks.alert_staff_of_missed_check_in_safety_answers",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "alert-overdue-urgent-reviews": {
        "task": "screening.tasks.alert_overdue_urgent_reviews",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    "send-missed-sign-in-links": {
        "task": "portal.tasks.send_missed_sign_in_links",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "send-missed-approvals": {
        "task": "booking.tasks.send_missed_approvals",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    "clear-expired-sessions": {
        "task": "telemed.tasks.clear_expired_sessions",
        "schedule": 60 * 60,
    },
    "purge-unfinished-screenings": {
        "task": "screening.tasks.purge_unfinished_screenings",
        "schedule": 60 * 60,
    },
    "purge-expired-audit-entries": {
        "task": "staff.tasks.purge_expired_audit_entries",
        "schedule": 24 * 60 * 60,
    },
    "apply-retention": {
        "task": "telemed.tasks.apply_retention",
        "schedule": 24 * 60 * 60,
    },
}
# A reminder handed to a worker and not picked up within this time (message lost, worker gone)
# is queued again by the next dispatch; sending it twice is prevented by the row's claim.
REMINDER_QUEUE_LEASE = timedelta(seconds=env.int("REMINDER_QUEUE_LEASE_SECONDS", default=300))
# A reminder being sent is taken back after the task's hard time limit plus this margin (for
# clocks that disagree between machines): by then the worker that held it is certainly gone.
REMINDER_CLAIM_MARGIN = timedelta(seconds=env.int("REMINDER_CLAIM_MARGIN_SECONDS", default=30))

# --- E-mail --------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clinic@example.org")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who is e-mailed at once about an urgent screening; empty: every active staff user with an e-mail.
SCREENING_ALERT_EMAILS = env.list("SCREENING_ALERT_EMAILS", default=[])
# An urgent screening still unreviewed this many hours after submission alerts the clinicians
# again. Clock hours, not business hours: urgent means a safety answer, nights and weekends count.
URGENT_REVIEW_HOURS = env.int("URGENT_REVIEW_HOURS", default=4)
EMAIL_TIMEOUT = 10

# --- Clinic --------------------------------------------------------------------------
CLINIC_NAME = env.str("CLINIC_NAME", default="Harbor Health Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="(555) 010-0199")
CLINIC_ADDRESS = env.str("CLINIC_ADDRESS", default="100 Example Street, Suite 200, Springfield, NY 10001")
CLINIC_TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="America/New_York")
# Video visits: each has its own room, <base>/<room name>, e.g. a self-hosted Jitsi. Empty: no
# link is given online (the clinic sends it some other way).
VIDEO_ROOM_BASE_URL = env.str("VIDEO_ROOM_BASE_URL", default="https://video.example.org/" if DEBUG else "")
if not DEBUG and VIDEO_ROOM_BASE_URL and not VIDEO_ROOM_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("VIDEO_ROOM_BASE_URL must start with https:// when DEBUG is off.")
# The patient's appointment page shows the video link from this many minutes before the start.
VIDEO_LINK_OPENS_MINUTES = env.int("VIDEO_LINK_OPENS_MINUTES", default=15)

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English")]
TIME_ZONE = CLINIC_TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static files (our own, never a CDN; static/build/site.min.css is built by `make css`) ---
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Staff access (SPEC, "Staff: roles, security, audit"; staff/) ----------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
# A second factor (TOTP, or a backup code) before any admin page. `make run` turns it off for the demo.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = CLINIC_NAME
# Staff are signed out after this many seconds without a request, and after STAFF_SESSION_MAX_HOURS in all.
STAFF_IDLE_TIMEOUT = env.int("STAFF_IDLE_TIMEOUT", default=900)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=8)
# Five failed sign-ins (password or second factor) within 15 minutes lock the username for 15
# minutes, whether or not it exists; managers see and clear lockouts in the admin.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Not by address as well (axes.W006): behind the clinic's proxy every request may come from one
# address, and one shared front-desk connection would lock the whole staff out at once.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "axes.W006"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # 15 minutes from the lockout, as the page says
AXES_RESET_ON_SUCCESS = False  # a right password must not wipe the failed second-factor codes before it
AXES_LOCKOUT_CALLABLE = "staff.views.locked_out"  # the sign-in page's look, a clear message, status 429
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failed sign-in kept for managers, after a lockout ends too
AXES_SENSITIVE_PARAMETERS = ["code", "csrfmiddlewaretoken"]  # never stored with a failed attempt
# Audit (django-auditlog): who changed what, and who viewed which clinical record; kept this long.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=6 * 366)
AUDITLOG_STORE_JSON_CHANGES = True

# --- Public forms: rate limits (django-ratelimit, counted in the cache; telemed/limits.py) -----
# "<count>/<period>" per client address and, where an e-mail is typed, per address typed. A
# person over a limit gets a kind page with the clinic's phone and the crisis line (status 429).
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "telemed.limits.client_address"
# The proxies in front of the site that add to X-Forwarded-For (README, "Production"): 0 when
# the site is reached directly, as in development.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0 if DEBUG else 1)
# Redis down: let people through rather than refuse a screening that may be urgent.
RATELIMIT_FAIL_OPEN = True
RATE_LIMITS = {
    "screening-start": env.str("RATE_LIMIT_SCREENING_START", default="10/h"),
    "screening-submit": env.str("RATE_LIMIT_SCREENING_SUBMIT", default="5/h"),
    "booking": env.str("RATE_LIMIT_BOOKING", default="10/h"),
    "booking-email": env.str("RATE_LIMIT_BOOKING_EMAIL", default="5/d"),
    "sign-in": env.str("RATE_LIMIT_SIGN_IN", default="20/h"),
    "slots-api": env.str("RATE_LIMIT_SLOTS_API", default="120/m"),
    # Answers kept (two a visit): generous, as a clinic's waiting room shares one address.
    "check-in": env.str("RATE_LIMIT_CHECK_IN", default="30/h"),
    # Sign-in links to the portal (/my/), per address and per e-mail typed, known or not.
    "portal-link": env.str("RATE_LIMIT_PORTAL_LINK", default="10/h"),
    "portal-link-email": env.str("RATE_LIMIT_PORTAL_LINK_EMAIL", default="5/h"),
}

# --- Retention (telemed/retention.py; README, "Retention") ---------------------------------
# Run daily by the beat, or by hand: python manage.py apply_retention [--dry-run].
# A finished screening that never led to a visit: its answers and contact details are removed
# after this many days (its outcome and scores stay, without the person).
RETENTION_UNBOOKED_SCREENING_DAYS = env.int("RETENTION_UNBOOKED_SCREENING_DAYS", default=180)
# A patient record with no visit held (every booking cancelled) and nothing upcoming:
# anonymised this many days after its last booking.
RETENTION_PATIENT_WITHOUT_VISIT_DAYS = env.int("RETENTION_PATIENT_WITHOUT_VISIT_DAYS", default=365)
# Booking details typed into the booking form live in the session this long at most.
BOOKING_DETAILS_MINUTES = env.int("BOOKING_DETAILS_MINUTES", default=30)
# The patient portal (/my/): a sign-in link works once, for PORTAL_LINK_MINUTES; the portal signs
# the patient out after PORTAL_IDLE_MINUTES without a page, and PORTAL_SESSION_MAX_HOURS after sign-in.
PORTAL_LINK_MINUTES = env.int("PORTAL_LINK_MINUTES", default=30)
PORTAL_IDLE_MINUTES = env.int("PORTAL_IDLE_MINUTES", default=30)
PORTAL_SESSION_MAX_HOURS = env.int("PORTAL_SESSION_MAX_HOURS", default=4)

# No page uses a camera, microphone, location or payment (video visits open in the video
# service's own page): django-permissions-policy sends the header on every response.
PERMISSIONS_POLICY: dict[str, list[str]] = {"camera": [], "microphone": [], "geolocation": [], "payment": []}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see README, "Production").
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is probed over plain HTTP by the load balancer and must not be redirected.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    CSRF_TRUSTED_ORIGINS = [SITE_URL]

# Every page: only our own origin. No CDN, fonts, analytics or inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: no patient data in logs, ever (log ids, not content) ---------------------
TASK_LOG_LEVEL = env.str("TASK_LOG_LEVEL", default="INFO" if DEBUG else "WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # telemed/logs.py: tokens, query strings and e-mail addresses out of every line, whichever logger.
    "filters": {
        "redact": {"()": "telemed.logs.RedactFilter"},
        "once_a_minute": {"()": "telemed.logs.OncePerMinute"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request logs would carry URLs with booking tokens; keep errors, drop the rest.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # INFO is a line for each task received and each task finished, as in development: in
        # production 10,000 reminders due at once wrote 20,000 lines, a tenth of a millisecond of
        # CPU per task (bench/README.md). A failed task is still logged (ERROR), and so is a
        # failed reminder attempt (booking's own WARNING); Celery's "retry" lines are INFO.
        # A line per staff sign-in is the audit's job (AccessLog in the admin), not the log's.
        "axes": {"level": "WARNING"},
        # Redis down: every cache call fails and is a miss (CACHES); said once a minute.
        "telemed.cache": {"level": "WARNING", "filters": ["once_a_minute"]},
        "celery.worker.strategy": {"level": TASK_LOG_LEVEL},
        "celery.app.trace": {"level": TASK_LOG_LEVEL},
    },
}
