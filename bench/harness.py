"""Shared by the benchmarks: a production-configured gunicorn on 127.0.0.1 and wrk against it."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg2

PROJECT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "telemed_bench"
SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"


def production_env(static_root: str, *, database: str = BENCH_DATABASE, redis_db: int = 13) -> dict[str, str]:
    """The environment of a production deployment, on a benchmark's own database and Redis db."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        # wrk sends everything from one address: the slots API's limit is counted (its cache
        # round trip is part of each figure) but set out of reach.
        "RATE_LIMIT_SLOTS_API": "1000000000/m",
    }


def ensure_database(name: str = BENCH_DATABASE) -> None:
    connection = psycopg2.connect(dbname="postgres", user="postgres", host="127.0.0.1", port=5432)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {name}")
    connection.close()


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def production_server(*, workers: int = 2):
    """Migrate, collect static files and serve with gunicorn; yields (base URL, environment)."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk (or run `make bench`, which installs it).")
    ensure_database()
    with tempfile.TemporaryDirectory() as static_root:
        env = production_env(static_root)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "telemed.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ],
            cwd=PROJECT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    fetch(base + "/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            yield base, env
        finally:
            server.terminate()
            server.wait(timeout=20)


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def wrk(url: str, *, seconds: int = 8, connections: int = 8) -> float:
    """Requests per second, from wrk with one thread (the second core runs the server)."""
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", "X-Forwarded-Proto: https", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        sys.exit(f"wrk saw error responses from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
