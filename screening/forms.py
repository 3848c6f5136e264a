import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from screening.instruments import PHQ9_DIFFICULTY_OPTIONS, PHQ9_DIFFICULTY_QUESTION, Instrument
from screening.triage import ABSOLUTE_CONTRAINDICATIONS, RELATIVE_CONTRAINDICATIONS
from telemed.forms import ContactDetailsForm, EmbeddedForm
from telemed.people import BornInTheFuture, BornTooLongAgo, stated_age

US_STATES = (
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"),
    ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"),
    ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
    ("XX", "Outside the United States"),
)  # fmt: skip
CONCERNS = (
    ("depression", _("Depression")),
    ("anxiety", _("Anxiety")),
    ("ptsd", _("PTSD or the effects of trauma")),
    ("bipolar_depression", _("Bipolar depression")),
    ("chronic_pain", _("Chronic pain")),
    ("other", _("Something else")),
)
MEDICATIONS = (
    ("benzodiazepines", _("Benzodiazepines (for example alprazolam, clonazepam, lorazepam, diazepam)")),
    ("lamotrigine", _("Lamotrigine")),
    ("maoi_14d", _("An MAOI antidepressant in the last 14 days (for example phenelzine, tranylcypromine, selegiline)")),
    ("stimulants", _("Stimulants (for example for ADHD)")),
    ("opioids", _("Opioid pain medicines")),
    ("other", _("Other prescription medicines")),
)


class StepForm(EmbeddedForm):
    """Every screening step: rendered by crispy-forms inside the step page's own <form>."""


def answered_date_of_birth(value: datetime.date) -> int:
    """Age in whole years today (the clinic's calendar), refusing impossible dates."""
    try:
        return stated_age(value, timezone.localdate())
    except BornInTheFuture:
        raise ValidationError(_("Your date of birth can't be in the future. Please check the year.")) from None
    except BornTooLongAgo:
        raise ValidationError(_("Please check the year of your date of birth.")) from None


class AboutForm(ContactDetailsForm, StepForm):
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%m/%d/%Y"],
        help_text=_("For example 1985-03-27."),
        error_messages={"invalid": _("Please enter a real date, for example 1985-03-27.")},
    )
    region = forms.ChoiceField(label=_("State where you live"), choices=(("", "—"), *US_STATES))

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        answered_date_of_birth(value)
        return value


YES_NO = (("yes", _("Yes")), ("no", _("No")))


class ConcernsForm(StepForm):
    concerns = forms.MultipleChoiceField(
        label=_("What would you like help with? Tick all that apply."),
        choices=CONCERNS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Please tick at least one, or “Something else”.")},
    )
    other_concern = forms.CharField(label=_("If something else, what?"), max_length=200, required=False)
    antidepressants_tried = forms.ChoiceField(
        label=_("How many antidepressant medicines have you tried, at a full dose for at least 6 weeks?"),
        choices=(("0", _("None")), ("1", "1"), ("2", "2"), ("3+", _("3 or more")), ("unsure", _("Not sure"))),
        widget=forms.RadioSelect,
    )
    has_therapist = forms.ChoiceField(label=_("Do you see a therapist now?"), choices=YES_NO, widget=forms.RadioSelect)
    has_prescriber = forms.ChoiceField(
        label=_("Does a doctor or nurse prescribe your mental health medicines now?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        if "other" in cleaned.get("concerns", []) and not cleaned.get("other_concern", "").strip():
            self.add_error("other_concern", _("Please tell us briefly what else you would like help with."))
        return cleaned


class QuestionnaireForm(StepForm):
    """One radio group per item, with the instrument's validated wording and answers."""

    instrument: Instrument


def questionnaire_form(instrument: Instrument, *, with_difficulty: bool = False) -> type[QuestionnaireForm]:
    choices = list(enumerate(instrument.options))
    attrs: dict[str, object] = {"instrument": instrument}
    for number, item in enumerate(instrument.items, start=1):
        attrs[f"item_{number}"] = forms.TypedChoiceField(
            label=f"{number}. {item}",
            choices=choices,
            coerce=int,
            widget=forms.RadioSelect,
            error_messages={
                "required": _("Please choose an answer for question %(number)s.") % {"number": number},
                "invalid_choice": _("Please choose one of the answers to question %(number)s.") % {"number": number},
            },
        )
    if with_difficulty:
        attrs["difficulty"] = forms.TypedChoiceField(
            label=PHQ9_DIFFICULTY_QUESTION,
            choices=list(enumerate(PHQ9_DIFFICULTY_OPTIONS)),
            coerce=int,
            required=False,
            empty_value=None,
            widget=forms.RadioSelect,
        )
    return type(f"{instrument.key.upper()}Form", (QuestionnaireForm,), attrs)


class ChecklistForm(StepForm):
    """A list to tick, or an explicit "none of these": an empty list could just be a skipped question."""

    none_label = _("None of these apply to me")
    none_error = _("Please tick what applies, or “None of these apply to me”.")
    both_error = _("You ticked items and also “None of these”. Please check your answers.")
    list_field = "items"

    def clean(self):
        cleaned = super().clean()
        ticked, none = cleaned.get(self.list_field), cleaned.get("none_apply")
        if not ticked and not none:
            raise ValidationError(self.none_error)
        if ticked and none:
            raise ValidationError(self.both_error)
        return cleaned


HEALTH_CONDITIONS = tuple(
    (code, text)
    for code, (text, _source) in {**ABSOLUTE_CONTRAINDICATIONS, **RELATIVE_CONTRAINDICATIONS}.items()
    if code != "maoi_14d"
)


class HealthForm(ChecklistForm):
    list_field = "conditions"
    conditions = forms.MultipleChoiceField(
        label=_("Do any of these apply to you, now or in the past as described?"),
        choices=HEALTH_CONDITIONS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    none_apply = forms.BooleanField(label=ChecklistForm.none_label, required=False)


class MedicationsForm(ChecklistForm):
    list_field = "medications"
    medications = forms.MultipleChoiceField(
        label=_("Which of these do you take?"), choices=MEDICATIONS, widget=forms.CheckboxSelectMultiple, required=False
    )
    other_medications = forms.CharField(
        label=_("Other medicines you take (names and doses, if you know them)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    none_apply = forms.BooleanField(label=_("I take no regular medicines"), required=False)

    def clean(self):
        cleaned = super().clean()
        if "other" in (cleaned.get("medications") or []) and not cleaned.get("other_medications", "").strip():
            self.add_error("other_medications", _("Please list your other medicines."))
        return cleaned


class ConsentForm(StepForm):
    privacy = forms.BooleanField(
        label=_("I agree that the clinic stores my answers to decide with me whether treatment may suit me, "
                "and uses them for nothing else."),
        error_messages={"required": _("We need your agreement to store your answers.")},
    )  # fmt: skip
    accuracy = forms.BooleanField(
        label=_("My answers are true and complete to the best of my knowledge."),
        error_messages={"required": _("Please confirm your answers are accurate.")},
    )
    not_emergency = forms.BooleanField(
        label=_("I understand this screening is not an emergency service. If I am in danger I will call 911, "
                "and if I am in crisis I will call or text 988."),
        error_messages={"required": _("Please confirm you have read this.")},
    )  # fmt: skip
