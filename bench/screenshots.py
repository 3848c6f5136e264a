"""Screenshots of the patient pages for review, on a phone (390 × 844) and a desk (1280 × 900).

    make css && .venv/bin/python bench/screenshots.py

Starts the site (runserver, DEBUG on) on 127.0.0.1 with `seed_demo` data on a temporary SQLite
database, drives Debian's Chromium with Playwright, and writes PNGs to docs/screenshots/ (the whole
page on a phone, the first screen on a desk):
the home page, an article, the consultation time picker (with a fresh eligible screening, as after
the screening's result page) and the portal (its sign-in form, then signed in as a demo patient
through a sign-in link e-mailed to them). Nothing leaves 127.0.0.1.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from harness import free_port, manage  # the benches' own helpers (bench/harness.py)
from playwright.sync_api import sync_playwright

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
ARTICLE = "/learn/what-a-session-is-like/"
PORTAL_PATIENT = "demo0@example.org"  # seed_demo's patient with consultations and an infusion booked

# Run inside the site (manage.py shell): an eligible screening to book from, and a portal sign-in
# link e-mailed (to the in-memory outbox) to a demo patient. Prints what the browser needs, as JSON.
PREPARE = f"""
import json, re
from django.core import mail
from django.utils import timezone
from screening.models import Outcome, Screening

screening = Screening.objects.create(
    full_name="Alex Example", email="alex@example.org", phone="5550100111",
    phq9_total=12, phq9_band="moderate", gad7_total=8, gad7_band="mild",
    outcome=Outcome.ELIGIBLE, clinical_outcome=Outcome.ELIGIBLE, submitted_at=timezone.now(),
)
found = {{"screening": screening.token}}
try:
    from portal import services
    link = services.sign_in_link_request(email={PORTAL_PATIENT!r})
    services.sign_in_link_send(link_id=link.pk)
    found["portal"] = re.search(r"/my/[^\\s\\"'<>]+/", mail.outbox[-1].body).group(0)
except Exception as error:  # the portal's sign-in is optional to these pictures
    found["portal_error"] = repr(error)
print(json.dumps(found))
"""


def site_env(tmp: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp}/screenshots.sqlite3",
        VAR_DIR=f"{tmp}/var",
        SITE_URL=f"http://127.0.0.1:{port}",
        OTP_REQUIRED="0",
        EMAIL_URL="consolemail://",
        LOG_LEVEL="WARNING",
    )
    return env


def wait_until_serving(base_url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped before serving")
        try:
            with urllib.request.urlopen(base_url + "/crisis/", timeout=2):  # noqa: S310 - our own 127.0.0.1
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer within a minute")


def shoot(page, name: str, kind: str) -> Path:
    """The whole page on a phone; the first screen on a desk (a whole long page would weigh a megabyte)."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")  # the page as it opens
    path = OUT / f"{name}-{kind}.png"
    page.screenshot(path=str(path), full_page=kind == "phone", animations="disabled", caret="hide")
    return path


def main() -> None:
    if not (PROJECT / "static" / "build" / "site.min.css").exists():
        sys.exit("The stylesheet is not built: run `make css` first.")
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="telemed-screenshots-") as tmp:
        env = site_env(tmp, port)
        Path(env["VAR_DIR"]).mkdir()
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        prepared = manage({**env, "EMAIL_URL": "memorymail://"}, "shell", "-c", PREPARE)
        found = json.loads(prepared.strip().splitlines()[-1])
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_serving(base_url, server)
            written = take_all(base_url, found)
        finally:
            server.terminate()
            server.wait(timeout=10)
    for path in written:
        print(f"{path.relative_to(PROJECT)}  {path.stat().st_size // 1024} KB")
    if "portal_error" in found:
        print(f"Portal signed in: not taken ({found['portal_error']})")


def take_all(base_url: str, found: dict) -> list[Path]:
    written = []
    foreign: list[str] = []

    def same_origin_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for kind, options in VIEWPORTS.items():
            context = browser.new_context(base_url=base_url, timezone_id="America/New_York", locale="en-US", **options)
            context.route("**/*", same_origin_only)
            page = context.new_page()
            page.goto("/")
            written.append(shoot(page, "home", kind))
            page.goto(ARTICLE)
            written.append(shoot(page, "article", kind))
            page.goto(f"/book/?screening={found['screening']}")  # as the result page's link does
            page.goto("/book/consultation/")
            # A day with many free times (the first may hold only the last few of today).
            page.get_by_role("link", name=re.compile(r"\b\d+ times\b")).first.click()
            page.wait_for_load_state()
            written.append(shoot(page, "time-picker", kind))
            page.goto("/my/")
            written.append(shoot(page, "portal-sign-in", kind))
            context.close()
        if "portal" in found:  # one link, used once: signed in on a desk, then the same session on a phone
            context = browser.new_context(base_url=base_url, timezone_id="America/New_York", locale="en-US")
            context.route("**/*", same_origin_only)
            page = context.new_page()
            page.goto(found["portal"])
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_url("**/my/")
            for kind, options in VIEWPORTS.items():
                page.set_viewport_size(options["viewport"])
                page.goto("/my/")
                written.append(shoot(page, "portal", kind))
            context.close()
        browser.close()
    if foreign:
        sys.exit(f"pages asked for other sites: {foreign}")
    return written


if __name__ == "__main__":
    main()
