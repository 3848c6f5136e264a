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
    idle_polls = 0
    while time.monotonic() < deadline:
        idle = queue_length() == 0 and (_remote_idle(remote) if remote else _local_idle())
        idle_polls = idle_polls + 1 if idle else 0
        # Worker processes are seen twice in a row with nothing to do: a message a worker has just
        # taken from the queue shows as running by the second look (one message at a time each).
        if idle_polls >= (2 if remote else 1):
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
    inspect = app.control.inspect(timeout=1)
    active = inspect.active()
    if not active or any(active.values()):  # no answer yet, or a task running: not idle
        return False
    # On a loaded machine the second question sometimes goes unanswered within the timeout while
    # every worker has just said it runs nothing (seen: active {'survivor': [], 'replacement': []},
    # reserved None for 30 s); with one message per worker, nothing running twice in a row is idle.
    reserved = inspect.reserved()
    return not reserved or not any(reserved.values())
