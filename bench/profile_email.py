"""In-process cost of building one reminder e-mail, step by step, without SMTP or a worker.

Run from the project root after `make bench-reminders` has seeded telemed_bench_reminders:
    .venv/bin/python bench/profile_email.py [--count 400]
Prints the median CPU microseconds per e-mail of: the context and templates (`reminder_email`),
the MIME tree (`message()`), and its bytes (`as_bytes()`), per reminder kind.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict

from harness import PROJECT, production_env

sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(production_env(scratch, database="telemed_bench_reminders", redis_db=12))
        import django

        django.setup()
        from bench.seed_reminders import measured_reminders
        from reminders.emails import reminder_email

        rows = list(
            measured_reminders().select_related(
                "appointment__patient", "appointment__appointment_type", "appointment__clinician"
            )[: options.count]
        )
        steps = defaultdict(lambda: defaultdict(list))
        for repeat in range(3):
            for reminder in rows:
                clock = time.process_time_ns()
                message = reminder_email(reminder)
                built = time.process_time_ns()
                tree = message.message()
                treed = time.process_time_ns()
                tree.as_bytes(linesep="\r\n")
                done = time.process_time_ns()
                if repeat:  # the first round warms caches and templates
                    timed = (("render", built - clock), ("message()", treed - built), ("as_bytes", done - treed))
                    for step, ns in timed:
                        steps[reminder.kind][step].append(ns / 1000)
        for kind, by_step in sorted(steps.items()):
            medians = {step: statistics.median(values) for step, values in by_step.items()}
            print(
                f"{kind:14}"
                + "".join(f"  {step} {us:6.0f} us" for step, us in medians.items())
                + f"  total {sum(medians.values()):6.0f} us"
            )


if __name__ == "__main__":
    main()
