"""Round trips through the real Redis: the cache, and a task carried by the broker to a Celery worker."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.utils import timezone

from telemed.celery import app
from telemed.tasks import clear_expired_sessions


def test_cache_round_trip_through_redis():
    assert caches["default"].__class__.__name__ == "RedisCache"
    cache.set("round-trip", {"n": 1}, timeout=30)
    assert cache.get("round-trip") == {"n": 1}


def test_celery_is_configured_for_json_only_and_time_limits():
    assert app.conf.broker_url.startswith("redis://")
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_time_limit == 60
    assert "clear-expired-sessions" in app.conf.beat_schedule


def test_every_beat_entry_names_a_registered_task_including_the_sweeps_for_lost_messages():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert schedule["alert-missed-urgent-screenings"]["schedule"] == 60
    assert "send-missed-approvals" in schedule and "dispatch-due-reminders" in schedule
    # Redis keeps no copy of a message until acknowledged: the sweeps above are what make a lost one good.
    assert app.conf.broker_transport_options.get("ack_emulation") is False


def make_session(*, expired: bool) -> str:
    store = SessionStore()
    store["step"] = 1
    store.set_expiry(-60 if expired else 3600)
    store.create()
    if expired:
        Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(minutes=1))
    return store.session_key


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_session_cleanup_sent_through_redis():
    expired, live = make_session(expired=True), make_session(expired=False)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        clear_expired_sessions.delay()
        deadline = time.monotonic() + 15
        while Session.objects.filter(session_key=expired).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not Session.objects.filter(session_key=expired).exists()
    assert Session.objects.filter(session_key=live).exists()
