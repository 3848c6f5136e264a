"""Test settings: the project's settings on the machine's PostgreSQL and Redis.

The suite never falls back to SQLite: tests/conftest.py stops the run with what to start
when PostgreSQL or Redis cannot be reached.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/telemed")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_KEY_PREFIX", "telemed-test")

from telemed.settings import *  # noqa: E402, F403

# Fast hashing: tests create users, they do not measure password strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite runs without collectstatic: WhiteNoise finds files where they live, as in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Staff sign in with a second factor, as in production (tests/factories.py: staff_sign_in).
OTP_REQUIRED = True

# Every test client comes from 127.0.0.1: the limits would refuse the suite's own screenings.
# tests/telemed/test_rate_limits.py turns them on and counts to N + 1.
RATELIMIT_ENABLE = False
