"""Queueing Celery tasks so that a broker outage never fails the request that queues them.

The database is the record of what is owed (telemed/owed.py): a message that cannot be published
is logged, by task name and count (task arguments are ids, and the log names none of them), and
is made good by its task's beat sweep or its row's lease once Redis is back. A publish is tried
twice with no pause, the second on a fresh connection (a pooled one may have been dropped by a
Redis restart), and then given up: Celery's own policies wait seconds before giving up (its
connection retries, about 6 s, even with `retry=False`), while the person waits on the page.
"""

import logging
from collections.abc import Iterable

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)

PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}


def enqueue(task: Task, calls: Iterable[tuple[int, ...]]) -> int:
    """Queue a message `task(*args)` for each `args` in `calls`, now, in one Redis pipeline.

    Returns how many were queued; 0 when the broker could not take them (never raises)."""
    from telemed.celery import app

    calls = list(calls)
    if not calls:
        return 0
    try:
        with app.producer_or_acquire() as producer, producer.batch():
            for args in calls:
                # The args' repr, given, spares Celery its saferepr (bench/README.md). celery-types
                # omits these two options, which Celery's apply_async takes in **options.
                task.apply_async(  # type: ignore[call-arg]
                    args,
                    producer=producer,
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                    argsrepr=repr(args),
                    kwargsrepr="{}",
                )
    except Exception as exc:  # noqa: BLE001 - whatever the broker did, the database keeps what is owed
        logger.warning("%s: %d not queued (%s), still owed by the database", task.name, len(calls), type(exc).__name__)
        return 0
    return len(calls)


def enqueue_on_commit(task: Task, *args: int) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task, [args]), robust=True)
