"""The form of a score a clinician enters on the patient's record (treatment.measurements.measurement_add)."""

import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treatment import trend
from treatment.measurements import INSTRUMENTS
from treatment.models import Measurement

# The PHQ-9 was published in 1999 (as part of the PRIME-MD PHQ) and the GAD-7 in 2006: an earlier
# date is a typing slip.
EARLIEST = datetime.date(1999, 1, 1)


class ClinicianScoreForm(forms.Form):
    prefix = "score"  # one form of several on the record page: its own ids

    instrument = forms.ChoiceField(label=_("Questionnaire"), choices=Measurement.Instrument.choices)
    score = forms.IntegerField(
        label=_("Total score"),
        min_value=0,
        max_value=trend.MAXIMUM[trend.PHQ9],
        help_text=_("PHQ-9: 0 to 27. GAD-7: 0 to 21."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Enter the total score."),
            "invalid": _("Enter the total score as a whole number, for example 12."),
            "min_value": _("A score is 0 or more."),
            "max_value": _("A PHQ-9 score is at most 27, a GAD-7 score at most 21."),
        },
    )
    taken_on = forms.DateField(
        label=_("Taken on"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day the patient answered it, as YYYY-MM-DD."),
        error_messages={
            "required": _("Enter the day it was taken."),
            "invalid": _("Enter the date as YYYY-MM-DD, for example 2026-12-01."),
        },
    )

    def clean_taken_on(self):
        day = self.cleaned_data["taken_on"]
        if day > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        if day < EARLIEST:
            raise ValidationError(_("Please check the year: that is before these questionnaires existed."))
        return day

    def clean(self):
        cleaned = super().clean()
        instrument, score = cleaned.get("instrument"), cleaned.get("score")
        if instrument in INSTRUMENTS and score is not None and score > trend.MAXIMUM[instrument]:
            self.add_error(
                "score",
                _("A %(name)s score is at most %(max)d.")
                % {"name": INSTRUMENTS[instrument].name, "max": trend.MAXIMUM[instrument]},
            )
        return cleaned

    def taken_at(self) -> datetime.datetime:
        """The day at noon, clinic time (a total typed in carries no time), or now for today."""
        noon = datetime.datetime.combine(
            self.cleaned_data["taken_on"], datetime.time(12), tzinfo=ZoneInfo(settings.CLINIC_TIME_ZONE)
        )
        return min(noon, timezone.now())
