import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

CLINIC = ZoneInfo("America/New_York")
# A Monday morning in the clinic; every booking test lives in this week.
NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=CLINIC)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def clinic_time(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """An instant on day `day` of December 2026, clinic wall clock."""
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=CLINIC)


@pytest.fixture
def screened_client(client, celery_eager):
    """A browser whose session holds an eligible person's screening, as its result link leaves it."""
    from tests.screening import personas
    from tests.screening.test_flow import complete

    screening = complete(client, personas.ELIGIBLE)
    client.get(f"/book/?screening={screening.token}")
    return client
