"""The production set-up served for real: collectstatic with hashed, compressed files, then gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "telemed.settings",
    "DEBUG": "0",
    "SECRET_KEY": "k3Jr9-long-random-production-secret-value-for-the-checks-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, *, behind_tls_proxy: bool = True, **headers: str):
    """GET from the local server, by default as the TLS-terminating proxy would forward it."""
    if behind_tls_proxy:
        headers["X-Forwarded-Proto"] = "https"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "telemed.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            get(base + "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)


def test_gunicorn_serves_pages_with_hashed_compressed_static_files(production_server):
    # A page that reads nothing from the database (this one is not migrated; the home page reads the care team).
    status, headers, body = get(production_server + "/crisis/")
    assert status == 200
    html = body.decode()
    assert "Strict-Transport-Security" in headers
    stylesheet = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert stylesheet.startswith("/static/build/site.min.") and stylesheet.count(".") == 3
    status, headers, _ = get(production_server + stylesheet, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]


def test_healthz_is_reachable_over_plain_http_for_load_balancers(production_server):
    status, _, body = get(production_server + "/healthz", behind_tls_proxy=False)
    assert status == 200
    assert body == b'{"status": "ok", "checks": {"database": "ok", "broker": "ok"}}'


@pytest.mark.parametrize(
    ("override", "explanation"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "Redis at REDIS_URL is unreachable"),
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/telemed"},
            "The database named by DATABASE_URL is unreachable",
        ),
        ({"SECRET_KEY": ""}, "Configuration error: SECRET_KEY must be set"),
    ],
)
def test_gunicorn_refuses_to_start_with_a_one_line_explanation(override, explanation):
    env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres", **override}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "telemed.wsgi", "--bind", f"127.0.0.1:{free_port()}"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(explanation)


def test_the_start_up_check_leaves_no_database_connection_for_workers_to_share():
    code = (
        "from telemed.preflight import problems_at_start; print(problems_at_start()); "
        "from django.db import connection; print(connection.connection is None)"
    )
    env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["[]", "True"], result.stderr
