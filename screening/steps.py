"""The steps of the screening, in order. A step may apply only given earlier answers."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from screening import forms
from screening.instruments import GAD7, PCL5, PHQ9

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def always(step_answers: dict) -> bool:
    return True


def ptsd_is_a_concern(step_answers: dict) -> bool:
    return "ptsd" in step_answers.get("concerns", {}).get("concerns", [])


@dataclass(frozen=True)
class Step:
    slug: str
    title: "StrOrPromise"
    form_class: type[forms.StepForm]
    applies: Callable[[dict], bool] = always
    intro: str = ""


STEPS = (
    Step("about", _("About you"), forms.AboutForm),
    Step("concerns", _("What brings you here"), forms.ConcernsForm),
    Step("phq9", _("Mood (PHQ-9)"), forms.questionnaire_form(PHQ9, with_difficulty=True), intro=PHQ9.stem),
    Step("gad7", _("Anxiety (GAD-7)"), forms.questionnaire_form(GAD7), intro=GAD7.stem),
    Step("pcl5", _("Stressful experiences (PCL-5)"), forms.questionnaire_form(PCL5), ptsd_is_a_concern, PCL5.stem),
    Step("health", _("Your health"), forms.HealthForm),
    Step("medications", _("Medicines"), forms.MedicationsForm),
    Step("consent", _("Consent"), forms.ConsentForm),
)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}


def active_steps(step_answers: dict) -> list[Step]:
    return [step for step in STEPS if step.applies(step_answers)]


def first_incomplete(step_answers: dict) -> Step | None:
    return next((step for step in active_steps(step_answers) if step.slug not in step_answers), None)
