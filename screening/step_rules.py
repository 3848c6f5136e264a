"""Which screening steps are asked, in order, given the answers so far: plain data, no forms.

`screening.steps` gives each slug its title and form; services read only this.
"""

from collections.abc import Callable, Mapping
from typing import Any

StepAnswers = Mapping[str, Mapping[str, Any]]


def always(step_answers: StepAnswers) -> bool:
    return True


def ptsd_is_a_concern(step_answers: StepAnswers) -> bool:
    return "ptsd" in step_answers.get("concerns", {}).get("concerns", [])


STEP_RULES: tuple[tuple[str, Callable[[StepAnswers], bool]], ...] = (
    ("about", always),
    ("concerns", always),
    ("phq9", always),
    ("gad7", always),
    ("pcl5", ptsd_is_a_concern),
    ("health", always),
    ("medications", always),
    ("consent", always),
)
STEP_SLUGS = tuple(slug for slug, _applies in STEP_RULES)


def active_step_slugs(step_answers: StepAnswers) -> list[str]:
    return [slug for slug, applies in STEP_RULES if applies(step_answers)]


def first_incomplete_slug(step_answers: StepAnswers) -> str | None:
    return next((slug for slug in active_step_slugs(step_answers) if slug not in step_answers), None)
