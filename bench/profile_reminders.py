"""In-process timing of `reminder_send`, for iterating without a worker: where a reminder's CPU goes.

Run from the project root after `make bench-reminders` has seeded telemed_bench_reminders:
    .venv/bin/python bench/profile_reminders.py [--count 800] [--profile]
It sends over SMTP to an aiosmtpd sink in a separate process (so the sink's CPU is not counted here),
with production settings, one reminder of each kind in turn, and prints the median per kind.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from harness import PROJECT, free_port, production_env

sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=800)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"]
    )
    time.sleep(1)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            os.environ.update(
                {
                    **production_env(scratch, database="telemed_bench_reminders", redis_db=12),
                    "EMAIL_URL": f"smtp://127.0.0.1:{port}",
                }
            )
            run(options)
    finally:
        sink.terminate()


def run(options) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from bench.seed_reminders import measured_reminders
    from reminders.models import Reminder
    from reminders.services import reminder_send

    rows = list(measured_reminders().order_by("pk").values_list("pk", "kind")[: options.count])
    ids = [pk for pk, _kind in rows]
    Reminder.objects.filter(pk__in=ids).update(
        status=Reminder.Status.QUEUED, due_at=timezone.now(), claim="", attempts=0, sent_at=None
    )
    for pk in ids[:20]:  # warm-up: imports, templates, connections
        reminder_send(reminder_id=pk)
    timings = defaultdict(list)
    profiler = cProfile.Profile() if options.profile else None
    cpu_started = time.process_time()
    for pk, kind in rows[20:]:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        outcome = reminder_send(reminder_id=pk)
        if profiler:
            profiler.disable()
        timings[kind].append((time.perf_counter() - started) * 1000)
        assert outcome == "sent", outcome
    cpu = (time.process_time() - cpu_started) * 1000 / (len(rows) - 20)
    everything = [t for values in timings.values() for t in values]
    print(f"CPU of this process per reminder: {cpu:.2f} ms")
    print(f"all kinds: median {statistics.median(everything):.2f} ms, mean {statistics.mean(everything):.2f} ms")
    for kind, values in sorted(timings.items()):
        print(f"  {kind:14} median {statistics.median(values):.2f} ms ({len(values)} sent)")
    later = timezone.now() + timezone.timedelta(days=30)  # held again, as seeded
    Reminder.objects.filter(pk__in=ids).update(status=Reminder.Status.PENDING, due_at=later)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
