"""The settings as an operator meets them: production refuses insecure values, mistakes read in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3Jr9-long-random-production-secret-value-for-the-checks-0123456789",
    "ALLOWED_HOSTS": "clinic.example.org",
    "EMAIL_URL": "smtp+tls://clinic:app-password@smtp.example.org:587",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with exactly the given configuration variables."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL", "EMAIL_URL"}
        and not key.startswith("DJANGO_")
    }
    clean["DJANGO_SETTINGS_MODULE"] = "telemed.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_check_deploy_is_clean_with_production_values():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert result.stderr == ""


def test_check_deploy_is_clean_with_production_postgres_and_redis():
    result = manage(
        "check",
        "--deploy",
        **PRODUCTION,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("backend", ["consolemail://", "filemail:///tmp/mail"])
def test_check_deploy_refuses_an_email_backend_that_writes_patients_emails_to_the_log(backend):
    result = manage("check", "--deploy", **{**PRODUCTION, "EMAIL_URL": backend})
    assert result.returncode != 0
    reasons = [line for line in result.stderr.splitlines() if "telemed.E002" in line]
    assert len(reasons) == 1 and "EMAIL_URL" in reasons[0]


@pytest.mark.parametrize(
    ("override", "word"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"SITE_URL": "http://clinic.example.org"}, "SITE_URL"),
    ],
)
def test_production_refuses_insecure_settings_in_one_line(override, word):
    assert_one_line_error(manage("check", **{**PRODUCTION, **override}), "Configuration error", word)


def test_a_malformed_database_url_is_explained_without_the_password():
    result = manage("check", DATABASE_URL="mysql://admin:s3cret@db.example.org/clinic")
    assert_one_line_error(result, "DATABASE_URL")
    assert "s3cret" not in result.stderr


def test_an_unreachable_database_is_explained_in_one_line():
    result = manage("migrate", "--noinput", DATABASE_URL="postgres://postgres@127.0.0.1:1/telemed")
    assert_one_line_error(result, "DATABASE_URL")


def test_an_unreachable_redis_in_production_is_explained():
    result = manage("check", **PRODUCTION, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "Redis at REDIS_URL is unreachable" in result.stderr


def test_a_redis_url_of_the_wrong_kind_is_explained():
    assert_one_line_error(manage("check", REDIS_URL="http://127.0.0.1:6379"), "REDIS_URL")


def test_development_defaults_need_no_configuration():
    result = manage("check")
    assert result.returncode == 0, result.stderr


def test_production_settings_are_secure():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_PROXY_SSL_HEADER, s.SITE_URL, s.STORAGES['staticfiles']['BACKEND'])"
    )
    result = manage("shell", "--no-imports", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "https://clinic.example.org",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]
