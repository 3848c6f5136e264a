"""Benchmark: 10,000 reminders fall due at once; one real Celery worker sends them over SMTP.

Production settings (`DEBUG=0`) on the database `telemed_bench_reminders` and Redis db 12; the
worker is started as the Procfile starts it; e-mail goes over SMTP to an aiosmtpd sink in this
process (tests/smtp_sink.py), whose accept times give each reminder's lateness. After a warm-up
(50 reminders, not counted) the clock starts at the moment the 10,000 fall due, and the beat's
task (`dispatch_due_reminders`) is queued as the beat queues it.
Run with `make bench-reminders`; figures are recorded in bench/README.md.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from harness import PROJECT, ensure_database, manage, production_env

sys.path.insert(0, str(PROJECT))  # the project's packages: bench.settings, booking, tests.smtp_sink

from tests.smtp_sink import SmtpSink  # noqa: E402 - needs the line above

DATABASE, REDIS_DB = "telemed_bench_reminders", 12
COUNT, WARMUP = 10_000, 50
TIMEOUT = 180  # seconds for all 10,000 to arrive


def worker_processes(pid: int) -> list[int]:
    """The worker's main process and all its descendants (the pool's children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # the process ended meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def worker_rss(pid: int) -> int:
    """Resident memory of the worker, in bytes: VmRSS of each of its processes, summed."""
    return rss(worker_processes(pid))


def rss(processes: list[int]) -> int:
    total = 0
    for process in processes:
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def user_system_seconds(pids) -> tuple[float, float]:
    """CPU seconds in user space and in the kernel that these processes, those still alive, have used."""
    user = system = 0
    for process in pids:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])  # utime, stime (fields 14, 15)
    return user / os.sysconf("SC_CLK_TCK"), system / os.sysconf("SC_CLK_TCK")


def worker_cpu(pid: int) -> tuple[float, float]:
    """The worker's user and system CPU seconds so far."""
    return user_system_seconds(worker_processes(pid))


def server_snapshot() -> dict[str, dict[int, tuple[int, int]]]:
    """For PostgreSQL's processes and Redis: per process, the clock ticks it has used itself and
    those of its children that have ended (a backend that ends is added to the postmaster's)."""
    named: dict[str, dict[int, tuple[int, int]]] = {"postgres": {}, "redis-server": {}}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
                if command not in named:
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            own, ended = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
            named[command][int(entry.name)] = (own, ended)
    return named


def server_cpu(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds PostgreSQL and Redis used between two snapshots, counting the backends that
    ended in between (Celery closes a worker's database connection every CELERY_DB_REUSE_MAX
    tasks): by their parent's count of ended children, less what they had used before."""
    used = {}
    for name, processes in after.items():
        earlier = before[name]
        ticks = sum(own - earlier.get(pid, (0, 0))[0] + ended - earlier.get(pid, (0, 0))[1]
                    for pid, (own, ended) in processes.items())  # fmt: skip
        ticks -= sum(own for pid, (own, _ended) in earlier.items() if pid not in processes)
        used[name] = ticks / os.sysconf("SC_CLK_TCK")
    return used


def machine_busy() -> tuple[float, float]:
    """CPU seconds all cores have spent busy so far (everything but idle and I/O wait), and of those
    the kernel's interrupt handling (irq, softirq: loopback network traffic is handled there and
    charged to no process), from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks, (irq + softirq) / ticks


class PeakMemory(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        # Walking /proc for the worker's processes holds this process's GIL for milliseconds, and the
        # SMTP sink's thread waits for it: done once a second, the memory read every 0.2 s.
        processes, found_at = [], 0.0
        while self.running:
            if time.monotonic() - found_at > 1.0:
                processes, found_at = worker_processes(self.pid), time.monotonic()
            self.peak = max(self.peak, rss(processes))
            time.sleep(0.2)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def start_worker(
    env: dict[str, str], *, pool: str, concurrency: int, prefetch: int | None, log: Path
) -> subprocess.Popen:
    """`celery worker` as the Procfile runs it (INFO log), with the pool under test."""
    command = [sys.executable, "-m", "celery", "-A", "telemed", "worker", "--loglevel=INFO", f"--pool={pool}"]
    if pool != "solo":
        command.append(f"--concurrency={concurrency}")
    if prefetch is not None:  # else CELERY_WORKER_PREFETCH_MULTIPLIER from the settings
        command.append(f"--prefetch-multiplier={prefetch}")
    with log.open("w") as output:
        return subprocess.Popen(
            [*command, "-n", "bench-reminders@%h"],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(app, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit("the worker exited at start-up; see its log")
        if app.control.ping(timeout=1.0):
            return
    sys.exit("the worker did not answer a ping within 60 s")


def wait_settled(reminders, timeout: float) -> None:
    """Until no row is waiting, queued or being sent: the worker has written every outcome."""
    from reminders.services import OPEN_STATUSES

    deadline = time.monotonic() + timeout
    while reminders.filter(status__in=OPEN_STATUSES).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


CALIBRATION = "import time; t = time.process_time(); sum(i * i for i in range(2**21)); print(time.process_time() - t)"


def machine_speed() -> float:
    """CPU milliseconds a fixed piece of Python takes, on both cores at once (median of 3 pairs). This
    machine's speed moves by a third from one run to the next (bench/README.md): a run's figures
    are read against this one."""
    timings = []
    for _ in range(3):
        pair = [subprocess.Popen([sys.executable, "-c", CALIBRATION], stdout=subprocess.PIPE) for _ in range(2)]
        timings += [float(process.communicate()[0]) * 1000 for process in pair]
    return statistics.median(timings)


def setup(scratch: str, sink: SmtpSink) -> dict[str, str]:
    """The bench database migrated and Django set up in this process, which seeds, dispatches and
    reads the rows like the site would; returns the environment of the processes that send."""
    ensure_database(DATABASE)
    env = {
        **production_env(scratch, database=DATABASE, redis_db=REDIS_DB),
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
    }
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    return env


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(int(len(values) * share), len(values) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--concurrency", type=int, default=4, help="as the Procfile (WORKER_CONCURRENCY)")
    parser.add_argument("--prefetch-multiplier", type=int, help="instead of the settings' value (1)")
    options = parser.parse_args()

    speed_before = machine_speed()
    with tempfile.TemporaryDirectory() as scratch, SmtpSink() as sink:
        env = setup(scratch, sink)
        from django.utils import timezone

        from bench.seed_reminders import MEASURED, make_due, measured_reminders, seed, settle
        from reminders.models import Reminder
        from reminders.tasks import dispatch_due_reminders
        from telemed.celery import app

        def beat_tick() -> None:  # as the beat sends it (telemed/settings.py, CELERY_BEAT_SCHEDULE)
            dispatch_due_reminders.apply_async(expires=55)

        app.control.purge()
        seed(count=COUNT, warmup=WARMUP, now=timezone.now())
        log = Path(scratch) / "worker.log"
        if app.control.ping(timeout=1.0):
            sys.exit("a Celery worker already listens on Redis db 12: is another bench-reminders running?")
        worker = start_worker(
            env, pool=options.pool, concurrency=options.concurrency, prefetch=options.prefetch_multiplier, log=log
        )
        try:
            wait_ready(app, worker)
            beat_tick()  # warm-up: imports, templates, connections to PostgreSQL and the SMTP sink
            if not sink.wait_for(WARMUP, timeout=60):
                sys.exit(f"warm-up: {len(sink)} of {WARMUP} e-mails arrived")
            wait_settled(Reminder.objects.all(), timeout=10)
            # The 10,000 fall due a few seconds from now, as reminders fall due by the clock, not by
            # an UPDATE: the rows are moved and vacuumed before the clock and the CPU counts start.
            due = timezone.now() + timedelta(seconds=3)
            make_due(at=due)
            settle()
            baseline, cpu_before, sink_before = worker_rss(worker.pid), worker_cpu(worker.pid), time.process_time()
            master_before = sum(user_system_seconds([worker.pid]))
            servers_before, busy_before = server_snapshot(), machine_busy()
            peak = PeakMemory(worker.pid)
            peak.start()

            time.sleep(max((due - timezone.now()).total_seconds(), 0))
            beat_tick()
            arrived = sink.wait_for(WARMUP + COUNT, timeout=TIMEOUT)
            (user, system), sink_cpu = worker_cpu(worker.pid), time.process_time() - sink_before
            user, system = user - cpu_before[0], system - cpu_before[1]
            master = sum(user_system_seconds([worker.pid])) - master_before
            servers = server_cpu(servers_before, server_snapshot())
            busy, interrupts = (now - before for now, before in zip(machine_busy(), busy_before, strict=True))
            wait_settled(measured_reminders(), timeout=30)
            time.sleep(1)  # a late duplicate would arrive now
            end = worker_rss(worker.pid)
            peak_rss = peak.stop()
            statuses = Counter(measured_reminders().values_list("status", flat=True))
        except SystemExit:
            print(
                "".join(log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr
            )  # why, as the worker saw it
            raise
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        lines = log.read_text().splitlines()
    errors = [line for line in lines if "ERROR" in line or "Traceback" in line]
    dispatch = [line.split(" queued in ")[1] for line in lines if "dispatch: " in line and " queued in " in line]

    received = [m for m in sink.messages if m.recipient.startswith(MEASURED)]
    counts = Counter((m.recipient, m.subject) for m in received)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lateness = [m.at - due.timestamp() for m in received]
    last = max(lateness) if lateness else float("nan")
    mb = 1024 * 1024
    workers = "solo" if options.pool == "solo" else f"{options.pool}, concurrency {options.concurrency}"
    workers += f", prefetch multiplier {options.prefetch_multiplier or 1}"
    print(f"worker:            {workers}; load average {os.getloadavg()[0]:.2f} at the end")
    speed_after = machine_speed()
    print(f"machine speed:     {speed_before:.0f} ms before, {speed_after:.0f} ms after (less is faster)")
    print(f"received:          {len(received)} e-mails, {len(counts)} distinct (of {COUNT})")
    print(f"all sent in:       {last:8.1f} s   (target <= 120 s){'' if arrived else '  -- TIMED OUT'}")
    print(f"throughput:        {len(received) / last:8.0f} e-mails/s")
    print(
        f"lateness:          max {last:.1f} s, p50 {statistics.median(lateness):.1f} s, "
        f"p95 {percentile(lateness, 0.95):.1f} s   (target max <= 120 s)"
    )
    print(f"dispatch pass:     {dispatch[-1] if dispatch else '?'} in the worker (queueing 10,000 tasks)")
    per_mail = {name: seconds / COUNT * 1000 for name, seconds in servers.items()}
    print(
        f"CPU per e-mail:    worker {(user + system) / COUNT * 1000:.2f} ms "
        f"({user / COUNT * 1000:.2f} user, {system / COUNT * 1000:.2f} kernel; "
        f"the pool's parent {master / COUNT * 1000:.2f}), "
        f"SMTP sink and bench {sink_cpu / COUNT * 1000:.2f} ms, "
        f"PostgreSQL {per_mail['postgres']:.2f} ms, Redis {per_mail['redis-server']:.2f} ms; all cores busy "
        f"{busy / COUNT * 1000:.2f} ms ({busy / (os.cpu_count() * last):.0%} of {os.cpu_count()} cores), "
        f"of which interrupts {interrupts / COUNT * 1000:.2f} ms"
    )
    print(f"duplicates:        {duplicates:8d}     (target 0)")
    print(
        f"worker memory:     {baseline / mb:.0f} MB after warm-up, {end / mb:.0f} MB at the end "
        f"(growth {(end - baseline) / mb:+.1f} MB, target <= 50 MB), peak {peak_rss / mb:.0f} MB"
    )
    print(f"row statuses:      {dict(statuses)}   (target: all sent)")
    print(f"worker log errors: {len(errors)}" + "".join(f"\n  {line}" for line in errors[:5]))


if __name__ == "__main__":
    main()
