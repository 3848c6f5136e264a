"""Redis goes away while the site runs: pages render from the database, an urgent screening still
shows its result at once, /healthz says so, and the staff alert goes out once Redis is back.

Redis is reached through a TCP proxy the test starts and stops: the real server keeps running
(other tests use it), while the site sees its connections refused and reset.
"""

import io
import logging
import socket
import struct
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail
from django.db import connections
from django.test import Client
from django.utils import timezone

from booking import services
from booking.models import Appointment, AppointmentType
from education import caching
from education.content_loader import load_content
from education.models import FAQ, Article, Condition
from reminders import services as reminder_services
from reminders import timing
from reminders.models import Reminder
from screening.models import Screening
from screening.tasks import alert_staff_of_missed_urgent_screenings, alert_staff_of_urgent_screening
from telemed import owed
from telemed.celery import app
from telemed.logs import OncePerMinute
from telemed.queueing import enqueue
from tests.booking.conftest import NOW
from tests.booking.test_booking import book_through_the_site
from tests.factories import ClinicianFactory, StaffUserFactory
from tests.screening import personas
from tests.screening.test_flow import complete

pytestmark = pytest.mark.django_db
ONCALL = "oncall@clinic.example.org"


class RedisProxy:
    """Forwards 127.0.0.1:<port> to the real Redis. stop(): the port is closed (connecting is
    refused) and open connections are reset under their users; start() again: the same port
    forwards again, to the same server and data."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self._stopped = threading.Event()
        self._acceptor: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)  # accept() wakes up to see stop()
        self.port = listener.getsockname()[1]
        self._stopped = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, args=(listener, self._stopped), daemon=True)
        self._acceptor.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._acceptor is not None:
            self._acceptor.join()  # it closes the port on its way out
            self._acceptor = None
        with self._lock:
            dropped, self._open = self._open, set()
        for sock in dropped:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv()
            except OSError:
                pass
            # Closed with a reset, as a vanished server's are: nothing lingers on the port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    def _accept(self, listener: socket.socket, stopped: threading.Event) -> None:
        with listener:
            while not stopped.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
                with self._lock:
                    self._open |= {client, upstream}
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)  # pass an orderly close on
        except OSError:
            pass  # reset, or closed by stop()


@pytest.fixture
def redis_proxy(settings):
    """The cache, the Celery broker and /healthz all reach Redis through the proxy."""
    real = urlsplit(django_settings.REDIS_URL)
    proxy = RedisProxy((real.hostname or "127.0.0.1", real.port or 6379))
    proxy.start()
    url = proxy.url(int(real.path.strip("/") or 0))
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**django_settings.CACHES["default"], "LOCATION": url}}
    broker_url = app.conf.broker_url
    use_broker(url)
    yield proxy
    proxy.stop()
    use_broker(broker_url)
    app.control.purge()  # leave the real queue as the test found it


def use_broker(url: str) -> None:
    """Point the site's Celery app at `url`: it lets go of its connection and producer pools, as
    Celery does in a forked child, and takes (kombu's shared) pools for `url` from then on."""
    app.conf.broker_url = url
    app._after_fork()


@pytest.fixture
def content(db):
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)


@pytest.fixture
def oncall(settings):
    settings.SCREENING_ALERT_EMAILS = [ONCALL]


@pytest.fixture
def rate_limits(settings):
    """The public forms' limits on, as in production: counted in Redis, open while it is away."""
    settings.RATELIMIT_ENABLE = True


@pytest.fixture
def later(monkeypatch):
    """The page cache's clock: each call moves it past the version's recheck, as time passing would."""
    now = [1000.0]
    monkeypatch.setattr(caching, "clock", lambda: now[0])

    def tick() -> None:
        now[0] += caching.VERSION_RECHECK_SECONDS + 0.1

    return tick


def test_pages_render_from_the_database_while_redis_is_down(redis_proxy, content, later):
    client = Client()
    article = Article.objects.published().first()
    pages = ["/", "/learn/", f"/learn/{article.slug}/", "/faq/", "/conditions/", "/sitemap.xml"]
    for path in pages:  # cached, in Redis and in this process, over pooled connections
        assert client.get(path).status_code == 200, path
    redis_proxy.stop()
    # Saved in another process (no signal here): only a page rendered from the database shows it.
    Article.objects.filter(pk=article.pk).update(title="Written while Redis was away", updated_at=timezone.now())
    for path in pages:
        later()
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'href="tel:988"' in response.content.decode() or path == "/sitemap.xml"
    assert "Written while Redis was away" in client.get(f"/learn/{article.slug}/").content.decode()
    assert "Written while Redis was away" in client.get("/learn/").content.decode()


@contextmanager
def worker():
    """A Celery worker in a thread of this process, on the site's app. Its tasks close their
    database connection, so that none is left open when the test database is dropped."""

    def close_database_connections(sender=None, **kwargs) -> None:
        if not getattr(sender.request, "is_eager", False):
            connections.close_all()

    signals.task_postrun.connect(close_database_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as started:
            yield started
    finally:
        signals.task_postrun.disconnect(close_database_connections)


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


def alerts_for(screening: Screening) -> list:
    link = f"/admin/screening/screening/{screening.pk}/change/"
    return [message for message in mail.outbox if message.to == [ONCALL] and link in message.body]


@pytest.mark.django_db(transaction=True)
def test_an_urgent_screening_during_the_outage_shows_its_result_and_alerts_staff_once_redis_returns(
    redis_proxy, oncall, rate_limits
):
    client = Client()
    # Before the outage the broker takes messages, over a connection the site keeps: a sweep is queued.
    assert enqueue(alert_staff_of_missed_urgent_screenings, [()]) == 1
    redis_proxy.stop()
    # The safety answer leads to the support page, and on to the result, while no alert can be queued.
    steps = personas.URGENT
    for slug, data in steps[:2]:
        assert client.post(f"/screening/step/{slug}/", data).status_code == 302
    assert client.post("/screening/step/phq9/", steps[2][1])["Location"] == "/screening/support/"
    assert 'href="tel:988"' in client.get("/screening/support/").content.decode()
    screening = complete(client, steps)
    response = client.get(f"/screening/result/{screening.token}/")
    assert response.status_code == 200
    main = response.content.decode().split('<main id="main"')[1]
    assert main.index("Please reach out for support now") < main.index("What happens next")
    assert 'href="tel:988"' in main and 'href="tel:911"' in main
    screening.refresh_from_db()
    assert screening.urgent and screening.staff_alerted_at is None and mail.outbox == []

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "fail", "checks": {"database": "ok", "broker": "fail"}}

    redis_proxy.start()
    assert client.get("/healthz").status_code == 200
    # Once the alert counts as lost (telemed/owed.py), the beat's sweep, run by a worker, sends it.
    with time_machine.travel(screening.safety_flagged_at + owed.LOST_AFTER + timedelta(seconds=30)):
        with worker():
            alert_staff_of_missed_urgent_screenings.delay()
            wait_for(lambda: Screening.objects.filter(pk=screening.pk, staff_alerted_at__isnull=False).exists())
            # Redis is back for everyone: the next urgent answer's alert is queued and sent at once.
            other = Client()
            for slug, data in steps[:3]:
                assert other.post(f"/screening/step/{slug}/", data).status_code == 302
            flagged_now = Screening.objects.exclude(pk=screening.pk).get()
            wait_for(lambda: Screening.objects.filter(pk=flagged_now.pk, staff_alerted_at__isnull=False).exists())
        [alert] = alerts_for(screening)
        assert "has been submitted" in alert.body
        assert len(alerts_for(flagged_now)) == 1
        # The next sweep, and a late copy of the lost message, find it sent.
        assert alert_staff_of_missed_urgent_screenings() == 0
        alert_staff_of_urgent_screening(screening.pk)
    assert len(alerts_for(screening)) == 1 and len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_booking_and_an_approval_during_the_outage_succeed_and_their_e_mails_stay_owed(redis_proxy, rate_limits):
    clinician = ClinicianFactory()
    client = Client()
    with time_machine.travel(NOW):
        screening = complete(client, personas.ELIGIBLE)
        client.get(f"/book/?screening={screening.token}")
        redis_proxy.stop()
        response, _key = book_through_the_site(client, clinician)
        appointment = Appointment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/appointments/{appointment.token}/?booked=1"
        assert client.get(response["Location"]).status_code == 200
        confirmation = Reminder.objects.get(appointment=appointment, kind=timing.CONFIRMATION)
        assert confirmation.status == Reminder.Status.PENDING and confirmation.due_at <= timezone.now()
        clinician_user = StaffUserFactory()
        Screening.objects.filter(pk=screening.pk).update(reviewed_at=timezone.now(), reviewed_by=clinician_user)
        services.treatment_plan_approve(
            screening=screening,
            appointment_type=AppointmentType.objects.get(slug="iv-infusion"),
            sessions=6,
            min_hours_between=48,
            note="",
            by=clinician_user,
        )
        assert mail.outbox == []

        redis_proxy.start()
        assert reminder_services.reminders_dispatch() == 1  # the confirmation, queued for a worker at last
        confirmation.refresh_from_db()
        assert confirmation.status == Reminder.Status.QUEUED
    assert services.missed_approvals_notify(now=NOW + owed.LOST_AFTER + timedelta(minutes=1)) == 1
    assert [message.to for message in mail.outbox] == [["alex@example.org"]]


def console_lines(stream: io.StringIO, logger_name: str) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if f" {logger_name} " in line]


@pytest.fixture
def console():
    """What the configured console handler writes (LOGGING), from a log quiet until now."""
    handler = next(handler for handler in logging.getLogger().handlers if handler.get_name() == "console")
    [once] = [f for f in logging.getLogger("telemed.cache").filters if isinstance(f, OncePerMinute)]
    seen, once.last = once.last, {}  # an earlier test's outage is not this one's
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream, once
    handler.setStream(previous)
    once.last = seen


def test_a_cache_outage_is_logged_once_a_minute_not_once_per_call(redis_proxy, content, later, console):
    stream, once = console
    client = Client()
    redis_proxy.stop()
    for path in ["/learn/", "/faq/", "/conditions/"] * 3:  # each fails several cache calls
        later()
        assert client.get(path).status_code == 200
    assert len(console_lines(stream, "telemed.cache")) == 1
    once.last = {key: when - 61 for key, when in once.last.items()}  # a minute on, still down
    later()
    article = Article.objects.published().first()
    assert client.get(f"/learn/{article.slug}/").status_code == 200  # not yet in this process's memory
    assert len(console_lines(stream, "telemed.cache")) == 2
