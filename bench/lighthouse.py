"""Lighthouse (mobile) on the patient pages of a production-configured server with demo data.

`make bench-lighthouse` (or `python bench/lighthouse.py` from the project): installs Lighthouse
12.2.3 from bench/.lighthouse/package-lock.json (13 needs Node 22), migrates a temporary SQLite
database and loads `seed_demo` into it, collects the static files (hashed and gzipped by WhiteNoise,
as in production), serves them with gunicorn on a free port of 127.0.0.1, and runs Lighthouse with
Debian's Chromium on each page. Prints the performance, accessibility and best-practices scores and
what kept a page below 1. Nothing leaves the machine: the server and the browser are local.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from harness import free_port, manage  # the benches' own helpers (bench/harness.py)

PROJECT = Path(__file__).resolve().parent.parent
TOOL = PROJECT / "bench/.lighthouse"
LIGHTHOUSE = TOOL / "node_modules/.bin/lighthouse"
CHROME = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")
PAGES = {
    "home": "/",
    "article": "/learn/what-a-session-is-like/",
    "booking": "/book/",
    "screening step": "/screening/step/about/",
    "portal": "/my/",
}
SECRET = "lighthouse-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABC"


def install_lighthouse() -> None:
    if shutil.which("npm") is None:
        sys.exit("npm is missing: apt-get install -y nodejs npm")
    if not Path(CHROME).exists():
        sys.exit("Debian's Chromium is missing: apt-get install -y chromium")
    stamp = TOOL / "node_modules/.package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < (TOOL / "package-lock.json").stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], cwd=TOOL, check=True
        )


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def audit(url: str, report: Path) -> dict:
    """One Lighthouse run; again (up to three times) when Chromium's trace came back unusable
    (NO_NAVSTART, NO_FCP: Lighthouse's own advice is to run it again)."""
    for attempt in range(3):
        finished = run_lighthouse(url, report)
        if finished.returncode == 0:
            return json.loads(report.read_text())
        print(f"{url}: Lighthouse failed (attempt {attempt + 1}): {finished.stderr.strip()[-300:]}", file=sys.stderr)
    sys.exit(f"Lighthouse failed three times on {url}")


def run_lighthouse(url: str, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--form-factor=mobile",  # Lighthouse's default mobile preset: a mid-range phone, slow 4G
            "--chrome-flags=--headless=new --no-sandbox --disable-background-networking",
        ],
        env={**os.environ, "CHROME_PATH": CHROME},
        capture_output=True,
        text=True,
        timeout=240,
    )


def shortfalls(result: dict) -> list[str]:
    """The audits that cost points, by title, for the categories run."""
    lost = []
    for category in result["categories"].values():
        for ref in category["auditRefs"]:
            found = result["audits"][ref["id"]]
            if ref["weight"] and found["score"] is not None and found["score"] < 1:
                lost.append(f"{found['title']} ({found.get('displayValue', found['score'])})")
    return lost


def main() -> None:
    install_lighthouse()
    with tempfile.TemporaryDirectory() as work:
        common = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "telemed.settings",
            "DATABASE_URL": f"sqlite:///{work}/lighthouse.sqlite3",
            "VAR_DIR": work,
            "STATIC_ROOT": f"{work}/static",
            "SITE_URL": "http://127.0.0.1",
        }
        common.pop("REDIS_URL", None)  # the embedded default, as `make run` without REDIS_URL
        manage({**common, "DEBUG": "1"}, "migrate", "--noinput")
        manage({**common, "DEBUG": "1"}, "seed_demo")  # demo data loads only with DEBUG on
        production = {
            **common,
            "DEBUG": "0",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1, which Chromium treats as secure
            "OTP_REQUIRED": "0",
            "SITE_URL": "https://127.0.0.1",  # only for links in e-mails and canonical tags
        }
        manage(production, "collectstatic", "--noinput")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "telemed.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=PROJECT,
            env=production,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(base)
            rows = []
            for name, path in PAGES.items():
                result = audit(base + path, Path(work) / f"{name}.json")
                scores = [result["categories"][category]["score"] for category in CATEGORIES]
                rows.append((name, path, scores, shortfalls(result)))
        finally:
            server.terminate()
            server.wait(timeout=20)
    print("\n| page | path | performance | accessibility | best practices |\n|---|---|---|---|---|")
    for name, path, scores, _ in rows:
        print(f"| {name} | `{path}` | " + " | ".join(f"{score:.2f}" for score in scores) + " |")
    for name, _, _, lost in rows:
        if lost:
            print(f"\n{name}: " + "; ".join(lost))
    if any(score < 0.95 for _, _, scores, _ in rows for score in scores):
        sys.exit("\nbelow the 0.95 target on at least one page")


if __name__ == "__main__":
    main()
