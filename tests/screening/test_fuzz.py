"""Whatever is posted to the screening, in whatever order, the answer is never a server error, and
a submitted screening's stored scores are those of its stored answers.

Each example starts from a draft filled in up to some step (prepared once, rolled back to after
each example), so later inputs meet the step they aim at rather than a redirect to the first.
"""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.instruments import GAD7, PCL5, PHQ9, Instrument
from screening.models import Screening
from screening.steps import STEPS
from tests.hardening.test_fuzz import TEXT, browser, rolled_back, send
from tests.screening import personas

pytestmark = pytest.mark.django_db

FIELDS = sorted({name for step in STEPS for name in step.form_class.base_fields} | {"action"})
VALUES = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "4", "-1", "99", "on", "yes", "no", "3+", "back", "next", "NY", "XX"]),
    st.sampled_from(["depression", "ptsd", "other", "seizures", "maoi_14d", "aneurysm_or_avm", "lamotrigine"]),
    st.sampled_from(["1985-03-27", "1800-02-30", "02/30/1990", "a@b", "<script>", "٣", "²", "１"]),
    TEXT,  # NUL, lone surrogates, huge numbers, years 1 and 9999, 5,000 characters
)
ANY_POST = st.tuples(
    st.sampled_from([step.slug for step in STEPS] + ["review", "no-such-step"]),
    st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=12),
)


def questionnaire(slug: str, instrument: Instrument) -> st.SearchStrategy[tuple[str, list[tuple[str, str]]]]:
    """A questionnaire answered in full, any answers in range: new scores to check."""
    answers = st.lists(
        st.integers(0, instrument.max_item_score), min_size=len(instrument.items), max_size=len(instrument.items)
    )
    return answers.map(lambda given: (slug, [(f"item_{n}", str(answer)) for n, answer in enumerate(given, 1)]))


POSTS = st.one_of(ANY_POST, questionnaire("phq9", PHQ9), questionnaire("gad7", GAD7), questionnaire("pcl5", PCL5))
# Drafts to start from: each persona's answers up to each step.
PERSONAS = (personas.REVIEW, personas.ELIGIBLE)  # the first is asked the PCL-5, the second is not
PREFILLS = [persona[:answered] for persona in PERSONAS for answered in range(len(persona) + 1)]
FINISHED = [PREFILLS.index(persona) for persona in PERSONAS]
START = st.one_of(st.integers(0, len(PREFILLS) - 1), st.sampled_from(FINISHED))  # often ready to submit


# Bands as SPEC words them, one per total: an independent reading of screening/scoring.py.
PHQ9_BAND = ["minimal"] * 5 + ["mild"] * 5 + ["moderate"] * 5 + ["moderately severe"] * 5 + ["severe"] * 8
GAD7_BAND = ["minimal"] * 5 + ["mild"] * 5 + ["moderate"] * 5 + ["severe"] * 7


def answers(screening: Screening, step: str, items: int, highest: int) -> list[int]:
    given = [screening.step_answers[step][f"item_{n}"] for n in range(1, items + 1)]
    assert all(type(answer) is int and 0 <= answer <= highest for answer in given), (step, given)
    return given


def assert_scores_match_answers() -> None:
    for screening in Screening.objects.submitted():
        phq9, gad7 = answers(screening, "phq9", 9, 3), answers(screening, "gad7", 7, 3)
        assert (screening.phq9_total, screening.phq9_band) == (sum(phq9), PHQ9_BAND[sum(phq9)])
        assert (screening.gad7_total, screening.gad7_band) == (sum(gad7), GAD7_BAND[sum(gad7)])
        if "pcl5" in screening.step_answers:
            pcl5 = answers(screening, "pcl5", 20, 4)
            assert (screening.pcl5_total, screening.pcl5_positive) == (sum(pcl5), sum(pcl5) >= 33)
        else:
            assert (screening.pcl5_total, screening.pcl5_positive) == (None, None)
        assert screening.urgent or phq9[8] == 0, "a safety answer above 0 not flagged urgent"


@pytest.fixture
def drafts(celery_eager) -> list[str | None]:
    """The session of each of PREFILLS."""
    sessions = []
    for prefill in PREFILLS:
        client = Client()
        for slug, data in prefill:
            assert client.post(f"/screening/step/{slug}/", data).status_code == 302
        cookie = client.cookies.get(django_settings.SESSION_COOKIE_NAME)
        sessions.append(cookie.value if cookie else None)  # none yet before the first answer
    return sessions


@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(start=START, posts=st.lists(POSTS, min_size=1, max_size=3), then_submit=st.booleans())
def test_no_submission_causes_a_server_error_or_a_wrong_score(drafts, start, posts, then_submit):
    with rolled_back():
        client = browser(drafts[start])
        for slug, data in [*posts, *([("review", [])] if then_submit else [])]:
            path = "/screening/review/" if slug == "review" else f"/screening/step/{slug}/"
            response = send(client, "POST", path, form=data)
            assert response.status_code < 500, (path, data)
            assert client.get(path).status_code < 500
            if "/result/" in response.get("Location", ""):  # submitted: the result page shows it
                assert client.get(response["Location"]).status_code == 200
        assert_scores_match_answers()
