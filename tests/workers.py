"""Waiting for Celery workers to have nothing left to do, instead of sleeping in the hope of it."""

import time

import redis
from celery.worker import state
from django.conf import settings

POLL = 0.05


def queue_length() -> int:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery")


def wait_until_drained(timeout: float = 30, *, remote=None) -> None:
    """Until the broker's queue is empty and no worker holds a task: no message is left that
    could send anything (a duplicate included). An in-process worker (celery's start_worker) is
    seen through its state; worker processes (`remote`: the Celery app) are asked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue_length() == 0 and (_remote_idle(remote) if remote else _local_idle()):
            return
        time.sleep(POLL)
    seen = _remote_state(remote) if remote else (state.active_requests, state.reserved_requests)
    raise AssertionError(f"the workers did not finish their queue in time: {queue_length()} queued; {seen}")


def _remote_state(app) -> tuple:
    inspect = app.control.inspect(timeout=0.5)
    return inspect.active(), inspect.reserved()


def _local_idle() -> bool:
    return not state.active_requests and not state.reserved_requests


def _remote_idle(app) -> bool:
    inspect = app.control.inspect(timeout=0.5)
    active, reserved = inspect.active(), inspect.reserved()
    if not active or not reserved:  # a worker busy in a task does not answer: not idle
        return False
    return not any(active.values()) and not any(reserved.values())
