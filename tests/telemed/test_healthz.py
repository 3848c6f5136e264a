import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_names_an_unreachable_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "ok", "broker": "fail"}}


@override_settings(CELERY_EMBEDDED=True)
def test_healthz_embedded_broker_is_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "embedded"


def test_healthz_names_a_failing_database(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "fail", "broker": "ok"}}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_only_answers_reads(client, method):
    assert getattr(client, method)("/healthz").status_code == 405
