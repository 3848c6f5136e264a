"""Embedded mode (what `make run` uses with nothing configured): SQLite and a filesystem broker,
with a real Celery worker process executing what the site queues, no PostgreSQL or Redis involved."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

QUEUE_EXPIRED_SESSION_CLEANUP = """
from datetime import timedelta
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from telemed.tasks import clear_expired_sessions
store = SessionStore(); store['step'] = 1; store.create()
Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
clear_expired_sessions.delay()
"""


@pytest.fixture
def embedded_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="telemed.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
    )
    return env


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_real_worker_runs_tasks_queued_through_the_embedded_broker(embedded_env):
    manage(embedded_env, "migrate", "--noinput")
    manage(embedded_env, "shell", "--no-imports", "-c", QUEUE_EXPIRED_SESSION_CLEANUP)
    count = "from django.contrib.sessions.models import Session; print(Session.objects.count())"
    assert manage(embedded_env, "shell", "--no-imports", "-c", count).strip() == "1"

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "telemed", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=PROJECT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while manage(embedded_env, "shell", "--no-imports", "-c", count).strip() != "0":
            assert time.monotonic() < deadline, "the worker did not run the queued task"
            time.sleep(0.5)
    finally:
        worker.terminate()
        _, log = worker.communicate(timeout=20)
    assert "filesystem://" in log
    assert "telemed.tasks.clear_expired_sessions" in log and "succeeded" in log


def test_healthz_reports_the_embedded_broker(embedded_env):
    manage(embedded_env, "migrate", "--noinput")
    code = (
        "from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='localhost'); "
        "print(r.status_code, r.content.decode())"
    )
    assert manage(embedded_env, "shell", "--no-imports", "-c", code).strip() == (
        '200 {"status": "ok", "checks": {"database": "ok", "broker": "embedded"}}'
    )
