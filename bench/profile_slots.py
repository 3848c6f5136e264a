"""In-process timing of /api/slots against the bench database, for iterating without gunicorn and wrk.

Run from the project root after `make bench-slots` has seeded telemed_bench:
    DJANGO_SETTINGS_MODULE=bench.settings DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1 \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/telemed_bench REDIS_URL=redis://127.0.0.1:6379/13 \
    .venv/bin/python bench/profile_slots.py [--profile one|all]
"""

import cProfile
import datetime
import pstats
import statistics
import sys
import time

import django

django.setup()

from django.test import Client  # noqa: E402

from booking.models import Clinician  # noqa: E402


def per_call_ms(client: Client, url: str, repeat: int) -> float:
    client.get(url)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    return statistics.median(timings)


def main() -> None:
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    clinician = Clinician.objects.filter(name__startswith="Bench").order_by("name").first().pk
    day = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=2)).isoformat()
    urls = {
        "bare": "/bench/bare.json",
        "one": f"/api/slots?type=consultation&start={day}&days=1&tz=America/New_York&clinician={clinician}",
        "all": f"/api/slots?type=consultation&start={day}&days=60&tz=America/New_York",
    }
    if len(sys.argv) > 2 and sys.argv[1] == "--profile":
        url = urls[sys.argv[2]]
        client.get(url)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200 if sys.argv[2] == "one" else 20):
            client.get(url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return
    for name, repeat in (("bare", 2000), ("one", 1000), ("all", 30)):
        print(f"{name:5s} {per_call_ms(client, urls[name], repeat):8.3f} ms median")


if __name__ == "__main__":
    main()
