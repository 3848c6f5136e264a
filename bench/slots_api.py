"""Benchmark: /api/slots on 10 clinicians × 60 days with 5,000 appointments, one production gunicorn.

1. One clinician-day, requests/s against a bare Django JSON view on the same server (wrk).
2. Queries per call, counted in-process at 1 and at 5,000 bookings' worth of data.
3. All clinicians × 60 days in one call: median time of 30 sequential requests.
Run with `make bench-slots`; figures are recorded in bench/README.md.
"""

import datetime
import statistics
import subprocess
import sys
import time

from harness import PROJECT, fetch, production_server, wrk

ROUNDS = 3
SEED = "import django; django.setup(); from bench.seed_slots import seed; seed()"
FIRST_CLINICIAN = (
    "import django; django.setup(); from booking.models import Clinician; "
    "print(Clinician.objects.filter(name__startswith='Bench').order_by('name').first().pk)"
)
COUNT_QUERIES = """
import django; django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
client.get("{url}")
with CaptureQueriesContext(connection) as queries:
    assert client.get("{url}").status_code == 200
print(len(queries))
"""


def python(env, code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    with production_server() as (base, env):
        python(env, SEED)
        clinician = python(env, FIRST_CLINICIAN).strip()
        tomorrow = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=2)).isoformat()
        one_day = f"/api/slots?type=consultation&start={tomorrow}&days=1&tz=America/New_York&clinician={clinician}"
        all_days = f"/api/slots?type=consultation&start={tomorrow}&days=60&tz=America/New_York"
        _, _, body = fetch(base + one_day)
        slots_one_day = body.count(b'"start"')
        bare, api = [], []
        for _ in range(ROUNDS):
            bare.append(wrk(base + "/bench/bare.json"))
            api.append(wrk(base + one_day))
        queries = python(env, COUNT_QUERIES.format(url=one_day)).strip()
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            _, _, body = fetch(base + all_days)
            timings.append((time.perf_counter() - started) * 1000)
        slots_all = body.count(b'"start"')

    bare_rps, api_rps = statistics.median(bare), statistics.median(api)
    runs = {name: ", ".join(f"{value:.0f}" for value in values) for name, values in (("bare", bare), ("api", api))}
    median, worst = statistics.median(timings), max(timings)
    print(f"bare JSON view:        {bare_rps:8.0f} req/s (runs: {runs['bare']})")
    print(f"one clinician-day:     {api_rps:8.0f} req/s (runs: {runs['api']}), {slots_one_day} slots")
    print(f"ratio:                 {api_rps / bare_rps:8.2f}x   (target >= 0.15x)")
    print(f"queries per call:      {queries:>8}")
    print(f"10 clinicians x 60 d:  median {median:.1f} ms, max {worst:.1f} ms, {slots_all} slots (target <= 50 ms)")


if __name__ == "__main__":
    main()
