"""Which steps are asked, in order: the form-free rules services read, and the pages built on them."""

import pytest

from screening.step_rules import STEP_SLUGS, active_step_slugs, first_incomplete_slug
from screening.steps import STEPS, STEPS_BY_SLUG, active_steps, first_incomplete

WITHOUT_PCL5 = ["about", "concerns", "phq9", "gad7", "health", "medications", "consent"]


def test_every_step_has_its_page_in_the_same_order():
    assert (
        [step.slug for step in STEPS]
        == list(STEP_SLUGS)
        == ["about", "concerns", "phq9", "gad7", "pcl5", *WITHOUT_PCL5[4:]]
    )
    assert set(STEPS_BY_SLUG) == set(STEP_SLUGS)


@pytest.mark.parametrize(
    ("answers", "active"),
    [
        ({}, WITHOUT_PCL5),
        ({"concerns": {"concerns": ["depression", "anxiety"]}}, WITHOUT_PCL5),
        ({"concerns": {"concerns": ["ptsd"]}}, list(STEP_SLUGS)),
        ({"concerns": {"concerns": ["depression", "ptsd"]}, "pcl5": {}}, list(STEP_SLUGS)),
        ({"concerns": {}}, WITHOUT_PCL5),
    ],
)
def test_the_pcl5_is_asked_only_when_ptsd_is_a_concern(answers, active):
    assert active_step_slugs(answers) == active
    assert [step.slug for step in active_steps(answers)] == active


@pytest.mark.parametrize(
    ("answered", "concerns", "missing"),
    [
        ([], ["depression"], "about"),
        (["about"], ["depression"], "concerns"),
        (["about", "concerns", "phq9", "gad7"], ["depression"], "health"),
        (["about", "concerns", "phq9", "gad7"], ["ptsd"], "pcl5"),
        (["about", "concerns", "phq9", "gad7", "health", "medications"], ["anxiety"], "consent"),
        (WITHOUT_PCL5, ["depression"], None),
        (WITHOUT_PCL5, ["ptsd"], "pcl5"),
        (["about", "concerns", "gad7", "health", "medications", "consent"], ["depression"], "phq9"),
    ],
)
def test_the_first_step_left_to_answer(answered, concerns, missing):
    answers = {slug: {} for slug in answered}
    if "concerns" in answers:
        answers["concerns"] = {"concerns": concerns}
    assert first_incomplete_slug(answers) == missing
    step = first_incomplete(answers)
    assert (step.slug if step else None) == missing
