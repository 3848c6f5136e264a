"""The steps of the screening as pages: each slug's title and form, in the order of `step_rules`."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from screening import forms
from screening.instruments import GAD7, PCL5, PHQ9
from screening.step_rules import STEP_SLUGS, StepAnswers, active_step_slugs, first_incomplete_slug

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Step:
    slug: str
    title: "StrOrPromise"
    form_class: type[forms.StepForm]
    intro: str = ""


_PAGES = (
    Step("about", _("About you"), forms.AboutForm),
    Step("concerns", _("What brings you here"), forms.ConcernsForm),
    Step("phq9", _("Mood (PHQ-9)"), forms.questionnaire_form(PHQ9, with_difficulty=True), intro=PHQ9.stem),
    Step("gad7", _("Anxiety (GAD-7)"), forms.questionnaire_form(GAD7), intro=GAD7.stem),
    Step("pcl5", _("Stressful experiences (PCL-5)"), forms.questionnaire_form(PCL5), intro=PCL5.stem),
    Step("health", _("Your health"), forms.HealthForm),
    Step("medications", _("Medicines"), forms.MedicationsForm),
    Step("consent", _("Consent"), forms.ConsentForm),
)
_PAGES_BY_SLUG = {step.slug: step for step in _PAGES}
STEPS = tuple(_PAGES_BY_SLUG[slug] for slug in STEP_SLUGS)  # a slug without a page fails here, at import
STEPS_BY_SLUG = {step.slug: step for step in STEPS}


def active_steps(step_answers: StepAnswers) -> list[Step]:
    return [STEPS_BY_SLUG[slug] for slug in active_step_slugs(step_answers)]


def first_incomplete(step_answers: StepAnswers) -> Step | None:
    slug = first_incomplete_slug(step_answers)
    return STEPS_BY_SLUG[slug] if slug else None
