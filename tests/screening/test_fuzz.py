"""Whatever is posted to the screening, in whatever order, the answer is never a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.steps import STEPS
from tests.screening import personas

pytestmark = pytest.mark.django_db

FIELDS = sorted({name for step in STEPS for name in step.form_class.base_fields} | {"action"})
VALUES = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "4", "-1", "99", "on", "yes", "no", "3+", "back", "next", "NY", "XX"]),
    st.sampled_from(["depression", "ptsd", "other", "seizures", "maoi_14d", "aneurysm_or_avm", "lamotrigine"]),
    st.sampled_from(
        ["1985-03-27", "2999-01-01", "1800-02-30", "02/30/1990", "", " ", "a@b", "x" * 5000, "a\x00b", "<script>"]
    ),
    st.text(max_size=300),
)
POSTS = st.tuples(
    st.sampled_from([step.slug for step in STEPS] + ["review", "no-such-step"]),
    st.dictionaries(st.sampled_from(FIELDS), st.lists(VALUES, min_size=1, max_size=3), max_size=12),
)


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(posts=st.lists(POSTS, min_size=1, max_size=3), prefill=st.integers(min_value=0, max_value=len(personas.REVIEW)))
def test_no_submission_causes_a_server_error(client, posts, prefill):
    # Start from a plausible point in the flow, then post anything.
    for slug, data in personas.REVIEW[:prefill]:
        client.post(f"/screening/step/{slug}/", data)
    for slug, data in posts:
        path = "/screening/review/" if slug == "review" else f"/screening/step/{slug}/"
        response = client.post(path, data)
        assert response.status_code < 500, (path, data)
        assert client.get(path).status_code < 500
