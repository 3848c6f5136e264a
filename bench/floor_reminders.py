"""The floor under `bench/reminders.py`: the same 10,000 sends with no Celery at all.

The same data (`bench/seed_reminders.py`), the same production settings, the same aiosmtpd sink in
this process; but instead of a worker, 4 plain processes (as many as the worker's pool) each call
`booking.services.reminder_send` for their share of the reminders, one after another, as a pool
process would, with no broker, no queueing and no pool parent. Whatever Celery is tuned to, the
benchmark cannot finish faster than this on the same machine: if this takes more than 30 s, the
target of `make bench-reminders` cannot be met here by any change to the worker. (Not to be run
alongside `make bench-reminders`: both empty and fill the same database.)
Run with `make bench-floor`; figures are recorded in bench/README.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from unittest import mock

from harness import PROJECT
from reminders import (
    COUNT,
    WARMUP,
    machine_busy,
    machine_speed,
    server_cpu,
    server_snapshot,
    setup,
    user_system_seconds,
)

sys.path.insert(0, str(PROJECT))

from tests.smtp_sink import SmtpSink  # noqa: E402 - needs the line above


def child(index: int, processes: int) -> None:
    """One sending process: its share of the measured reminders, once told to go on stdin."""
    import django

    django.setup()
    from bench.seed_reminders import measured_reminders
    from booking import services

    ids = list(measured_reminders().order_by("pk").values_list("pk", flat=True))[index::processes]
    services.reminder_send(reminder_id=ids[0])  # warm-up: templates, the prepared statements, SMTP
    print("ready", flush=True)
    if sys.stdin.readline() != "go\n":  # the bench stopped before the start
        return
    outcomes = Counter(services.reminder_send(reminder_id=reminder_id) for reminder_id in ids[1:])
    print(json.dumps({"finished": time.time(), "outcomes": outcomes}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4, help="as the worker's pool (WORKER_CONCURRENCY)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        return child(options.child, options.processes)

    speed_before = machine_speed()
    with tempfile.TemporaryDirectory() as scratch, SmtpSink() as sink:
        env = setup(scratch, sink)
        from django.utils import timezone

        from bench.seed_reminders import MEASURED, make_due, measured_reminders, seed, settle
        from booking import services

        seed(count=COUNT, warmup=WARMUP, now=timezone.now())
        make_due(at=timezone.now())
        settle()
        # The rows as a worker finds them: queued by the dispatch pass (its tasks not sent anywhere).
        with mock.patch.object(services, "_enqueue"):
            services.reminders_dispatch()
        senders = [
            subprocess.Popen(
                [sys.executable, __file__, "--child", str(n), "--processes", str(options.processes)],
                cwd=PROJECT / "bench",
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(options.processes)
        ]
        for sender in senders:
            if sender.stdout.readline().strip() != "ready":
                sys.exit("a sending process failed at start-up")
        warm = len(sink)
        pids = [sender.pid for sender in senders]
        cpu_before, sink_before = sum(user_system_seconds(pids)), time.process_time()
        servers_before, busy_before = server_snapshot(), machine_busy()
        started = time.time()
        for sender in senders:
            sender.stdin.write("go\n")
            sender.stdin.flush()
        arrived = sink.wait_for(warm + COUNT - options.processes, timeout=180)
        cpu, sink_cpu = sum(user_system_seconds(pids)) - cpu_before, time.process_time() - sink_before
        servers = server_cpu(servers_before, server_snapshot())
        busy, interrupts = (now - before for now, before in zip(machine_busy(), busy_before, strict=True))
        reports = [json.loads(sender.communicate(timeout=60)[0]) for sender in senders]
        statuses = Counter(measured_reminders().values_list("status", flat=True))
    speed_after = machine_speed()

    received = [m for m in sink.messages if m.recipient.startswith(MEASURED) and m.at >= started]
    last = max(m.at for m in received) - started if received else float("nan")
    sent = len(received)
    print(f"senders:           {options.processes} plain processes calling reminder_send (no Celery)")
    print(f"machine speed:     {speed_before:.0f} ms before, {speed_after:.0f} ms after (less is faster)")
    print(f"all sent in:       {last:8.1f} s for {sent} e-mails{'' if arrived else '  -- TIMED OUT'}")
    print(f"throughput:        {sent / last:8.0f} e-mails/s")
    per_mail = {name: seconds / sent * 1000 for name, seconds in servers.items()}
    print(
        f"CPU per e-mail:    senders {cpu / sent * 1000:.2f} ms, SMTP sink and bench {sink_cpu / sent * 1000:.2f} ms, "
        f"PostgreSQL {per_mail['postgres']:.2f} ms; all cores busy {busy / sent * 1000:.2f} ms "
        f"({busy / last / os.cpu_count():.0%} of {os.cpu_count()} cores), of which interrupts "
        f"{interrupts / sent * 1000:.2f} ms"
    )
    finished = sorted(report["finished"] - started for report in reports)
    # Each process has a fixed share, as a pool with prefetch 1 has not: the spread says how much
    # the last one to finish kept the others waiting.
    print(f"senders finished:  after {', '.join(f'{seconds:.1f}' for seconds in finished)} s")
    print(f"outcomes:          {[report['outcomes'] for report in reports]}")
    print(f"row statuses:      {dict(statuses)}")


if __name__ == "__main__":
    main()
